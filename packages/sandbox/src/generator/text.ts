/**
 * Script and width helpers for written brand forms, and the "does this text name the brand" check the
 * generator uses to keep noise and near-misses clean.
 */

/** Katakana → hiragana (the rest unchanged). */
export function katakanaToHiragana(text: string): string {
  return text.replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
}

/** Hiragana → katakana (the rest unchanged). */
export function hiraganaToKatakana(text: string): string {
  return text.replace(/[\u3041-\u3096]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));
}

/** The folding the generator checks against: NFKC, lower case, katakana as hiragana. */
export function foldText(text: string): string {
  return katakanaToHiragana(text.normalize('NFKC').toLowerCase());
}

const HALF_WIDTH = new Map<string, string>();
for (let cp = 0xff61; cp <= 0xff9f; cp++) {
  const half = String.fromCodePoint(cp);
  const full = half.normalize('NFKC');
  if (full.length === 1 && !HALF_WIDTH.has(full)) HALF_WIDTH.set(full, half);
}

/**
 * Full-width katakana (hiragana too) written in half-width kana, as old phones and some people do:
 * シオリノート → ｼｵﾘﾉｰﾄ. Null when a character has no half-width form or the text has no kana.
 */
export function toHalfWidthKana(text: string): string | null {
  let out = '';
  let changed = false;
  for (const ch of hiraganaToKatakana(text)) {
    const direct = HALF_WIDTH.get(ch);
    if (direct !== undefined) {
      out += direct;
      changed = true;
      continue;
    }
    const decomposed = ch.normalize('NFD');
    const base = HALF_WIDTH.get(decomposed[0] ?? '');
    const mark = decomposed[1];
    if (decomposed.length === 2 && base !== undefined && (mark === '\u3099' || mark === '\u309a')) {
      out += base + (mark === '\u3099' ? 'ﾞ' : 'ﾟ');
      changed = true;
      continue;
    }
    if (/[\u3040-\u30ff]/.test(ch)) return null;
    out += ch;
  }
  if (!changed) return null;
  return foldText(out) === foldText(text) ? out : null;
}

/** ASCII letters and digits in full-width form: Shiori Note → Ｓｈｉｏｒｉ Ｎｏｔｅ. */
export function toFullWidthLatin(text: string): string {
  return text.replace(/[A-Za-z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

export const hasLatin = (text: string): boolean => /[A-Za-z]/.test(text.normalize('NFKC'));
export const hasKana = (text: string): boolean => /[\u3041-\u3096\u30a1-\u30fa\uff66-\uff9d]/.test(text);
export const hasJapanese = (text: string): boolean =>
  /[\u3041-\u3096\u30a1-\u30fa\uff66-\uff9d\u4e00-\u9fff]/.test(text);

const WORD = /[\p{Script=Latin}\p{Nd}_]/u;

/** True when the folded character at `index` is a (Latin) word character. */
function wordAt(folded: string, index: number): boolean {
  const ch = folded[index];
  return ch !== undefined && WORD.test(ch);
}

/**
 * Whether `text` names `name`: folded substring match, and where the name starts or ends with a Latin
 * letter or digit, only on a word boundary (so "booklogging" does not name "booklog", but
 * "ブクログの" names "ブクログ").
 */
export function namesIn(text: string, name: string): boolean {
  return createNameChecker([name])(text);
}

/** Length as X counts it: CJK and emoji weigh 2, everything else 1 (close enough for a budget). */
export function weightedLength(text: string): number {
  let n = 0;
  for (const ch of text) n += (ch.codePointAt(0) ?? 0) > 0x10ff ? 2 : 1;
  return n;
}

/** A checker for "does this text name any of these names", folding each name once. */
export function createNameChecker(names: readonly string[]): (text: string) => boolean {
  const folded = [...new Set(names.map((n) => foldText(n).trim()).filter((n) => n !== ''))].map((n) => ({
    n,
    startsWord: wordAt(n, 0),
    endsWord: wordAt(n, n.length - 1),
  }));
  return (text) => {
    const t = foldText(text);
    for (const { n, startsWord, endsWord } of folded) {
      for (let i = t.indexOf(n); i !== -1; i = t.indexOf(n, i + 1)) {
        if (startsWord && wordAt(t, i - 1)) continue;
        if (endsWord && wordAt(t, i + n.length)) continue;
        return true;
      }
    }
    return false;
  };
}
