/**
 * Japanese-aware text normalisation: the single definition of "the same text" used by the query
 * parser, the matcher and the classifier.
 *
 * NFKC (half-width kana → full-width, full-width Latin → ASCII, compatibility forms), lower case,
 * katakana folded to hiragana, long-vowel marks and their look-alikes unified (and runs collapsed),
 * dashes unified, invisible characters removed, every run of whitespace turned into one space.
 */

const LONG_VOWEL = 0x30fc; // ー
const HYPHEN = 0x2d; // -
const SPACE = 0x20;

let buffer = new Uint16Array(1024);

// Per-code-unit behaviour, computed once: the hot loop is then two table reads per character.
const COPY = 0;
const WHITESPACE = 1;
const DASH = 2; // dash-like: a long-vowel mark after kana, otherwise "-"
const DROP = 3; // invisible
const KIND = new Uint8Array(65536);
const FOLD = new Uint16Array(65536);

function isInvisible(c: number): boolean {
  return (
    (c >= 0x200b && c <= 0x200f) || // zero-width space/joiners, LRM/RLM
    (c >= 0x202a && c <= 0x202e) || // bidi embeddings
    (c >= 0x2060 && c <= 0x2064) || // word joiner, invisible operators
    (c >= 0x2066 && c <= 0x2069) || // bidi isolates
    (c >= 0xfe00 && c <= 0xfe0f) || // variation selectors
    c === 0xfeff || // BOM / zero-width no-break space
    c === 0x00ad || // soft hyphen
    c === 0x034f || // combining grapheme joiner
    c === 0x180e || // Mongolian vowel separator
    c === 0x115f ||
    c === 0x1160 ||
    c === 0x3164 ||
    c === 0xffa0 // Hangul fillers, often abused as blanks
  );
}

function isWhitespace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Dash-like characters; after kana they are read as a long-vowel mark. */
function isDashLike(c: number): boolean {
  return (
    c === HYPHEN ||
    c === LONG_VOWEL ||
    (c >= 0x2010 && c <= 0x2015) || // hyphen … horizontal bar
    c === 0x2212 || // minus sign
    c === 0x2e3a ||
    c === 0x2e3b ||
    c === 0x301c || // wave dash 〜
    c === 0x3030 || // wavy dash
    c === 0x007e || // tilde (NFKC of full-width tilde)
    c === 0xff5e
  );
}

for (let c = 0; c < 65536; c++) {
  FOLD[c] = c;
  if (isWhitespace(c)) KIND[c] = WHITESPACE;
  else if (isDashLike(c)) KIND[c] = DASH;
  else if (isInvisible(c)) KIND[c] = DROP;
  if ((c >= 0x30a1 && c <= 0x30f6) || c === 0x30fd || c === 0x30fe) FOLD[c] = c - 0x60; // katakana → hiragana
}
// Typographic apostrophes (phones type don’t): one apostrophe, so "don't" finds both.
FOLD[0x2018] = 0x27;
FOLD[0x2019] = 0x27;
FOLD[0x02bc] = 0x27;

/** Kana after folding (hiragana block plus the long-vowel mark and iteration marks). */
function isKana(c: number): boolean {
  return (c >= 0x3041 && c <= 0x309f) || c === LONG_VOWEL || (c >= 0x30a0 && c <= 0x30ff);
}

/**
 * True for characters that form Latin-script words (letters, digits and underscore of Latin, Greek
 * and Cyrillic). Terms that begin or end with such a character match only on word boundaries;
 * everything else (kana, kanji, Hangul, punctuation) is matched as a substring.
 */
export function isWordCode(c: number): boolean {
  if (c < 0x80) {
    return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  }
  return (
    (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || // Latin-1 letters, Latin Extended-A/B
    (c >= 0x250 && c <= 0x2af) || // IPA
    (c >= 0x300 && c <= 0x36f) || // combining diacritics (part of the word)
    (c >= 0x370 && c <= 0x52f) || // Greek, Cyrillic
    (c >= 0x1e00 && c <= 0x1fff) // Latin Extended Additional, Greek Extended
  );
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * True when `before` and `after`, side by side, belong to one Latin-script word. A digit next to a
 * letter is a boundary: grade prefixes (小3Z会, 中1Z会) and years (booklog2026) are everyday writing.
 * Letters with letters, digits with digits and anything with an underscore stay joined.
 */
export function joinsWord(before: number, after: number): boolean {
  if (!isWordCode(before) || !isWordCode(after)) return false;
  if (before === 0x5f || after === 0x5f) return true;
  return isDigitCode(before) === isDigitCode(after);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return false;
  }
  return true;
}

/** Normalises text for matching. Pure, allocation-light; safe on any string (including lone surrogates). */
export function normalizeText(text: string): string {
  const folded = (isAscii(text) ? text : text.normalize('NFKC')).toLowerCase();
  const length = folded.length;
  if (buffer.length < length) buffer = new Uint16Array(length * 2);
  let out = 0;
  let previous = SPACE; // start as if after a space: leading whitespace is dropped
  for (let i = 0; i < length; i++) {
    let c = FOLD[folded.charCodeAt(i)] as number;
    const kind = KIND[c];
    if (kind !== COPY) {
      if (kind === WHITESPACE) {
        if (previous === SPACE) continue;
        c = SPACE;
      } else if (kind === DASH) {
        if (isKana(previous)) {
          if (previous === LONG_VOWEL) continue; // collapse ーーー
          c = LONG_VOWEL;
        } else if (c !== LONG_VOWEL) {
          c = HYPHEN;
        }
      } else {
        continue; // invisible
      }
    }
    buffer[out++] = c;
    previous = c;
  }
  if (out > 0 && buffer[out - 1] === SPACE) out--;
  return decode(buffer, out);
}

function decode(codes: Uint16Array, length: number): string {
  if (length === 0) return '';
  const CHUNK = 8192;
  if (length <= CHUNK)
    return String.fromCharCode.apply(null, codes.subarray(0, length) as unknown as number[]);
  let result = '';
  for (let start = 0; start < length; start += CHUNK) {
    const end = Math.min(length, start + CHUNK);
    result += String.fromCharCode.apply(null, codes.subarray(start, end) as unknown as number[]);
  }
  return result;
}

// A URL is made of the ASCII characters RFC 3986 allows (minus quotes, parentheses and angle
// brackets, which surround URLs in prose); it ends at the first other character. Japanese written
// straight after a link (https://t.co/abc123ブクログ重すぎ) is prose; a non-ASCII path has to be
// percent-encoded to stay part of the URL, as browsers and X's t.co copy it.
const URL_CHARS = '[A-Za-z0-9\\-._~:/?#\\[\\]@!$&*+,;=%]+';
const URL_PATTERN = new RegExp(`\\bhttps?:\\/\\/${URL_CHARS}|\\bwww\\.${URL_CHARS}`, 'giu');

export interface SplitText {
  /** The text with every URL replaced by a space: what terms and phrases are matched against. */
  readonly prose: string;
  /** The URLs found, lower-cased, in order. */
  readonly urls: readonly string[];
}

/** Separates URLs from prose: text inside URLs is matched only by `url:`. */
export function splitUrls(text: string): SplitText {
  if (!text.includes('http') && !text.includes('www.') && !text.includes('HTTP') && !text.includes('WWW.')) {
    return { prose: text, urls: [] };
  }
  const urls: string[] = [];
  const prose = text.replace(URL_PATTERN, (url) => {
    urls.push(url.replace(/[.,!?;:]+$/u, '').toLowerCase());
    return ' ';
  });
  return { prose, urls };
}

/** Normalises a hashtag or mention name: without its sigil, normalised like text. */
export function normalizeTag(tag: string): string {
  return normalizeText(tag.replace(/^[#＃@＠]+/u, ''));
}
