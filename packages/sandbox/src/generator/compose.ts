import type { Random } from './random.ts';
import type { BrandKind, Tone, Vocabulary } from './vocab.ts';

/** What a post shows, for tests and benchmarks that want to slice by it. */
export type GeneratedTrait =
  | 'polite'
  | 'negated'
  | 'reply'
  | 'mention-official'
  | 'typo'
  | 'emoji'
  | 'hashtag'
  | 'url'
  | 'slang';

export type Lang = 'ja' | 'en';

/** Stands for the brand's written form until the very end, so typos and case changes leave it alone. */
const BRAND = '\u0001';
/** Stands for a near-miss word, for the same reason. */
const NEAR = '\u0002';

export interface Composition {
  text: string;
  traits: GeneratedTrait[];
}

export interface ComposeContext {
  readonly random: Random;
  readonly vocab: Vocabulary;
  readonly lang: Lang;
  /** Another person's handle, for replies. */
  readonly otherHandle: () => string;
}

export const TONE: Readonly<Record<BrandKind, Tone>> = {
  praise: 'pos',
  complaint: 'gripe',
  trouble: 'neg',
  question: 'ask',
  neutral: 'flat',
};

const SLANG =
  /ｗ|www|草|マジ|神|詰んだ|ぴえん|つらみ|\blol\b|\bsmh\b|\btbh\b|\bpls\b|\bngl\b|\bfr\b|\blmao\b|\bffs\b|\bfml\b/;

/** Expands {SLOT} and {a|b} (innermost first, so alternatives may hold slots). */
export function expand(template: string, slot: (name: string) => string | undefined, random: Random): string {
  let text = template;
  for (let pass = 0; pass < 12; pass++) {
    let changed = false;
    text = text.replace(/\{([^{}]*)\}/g, (_, inner: string) => {
      changed = true;
      if (/^[A-Z][A-Z0-9]*$/.test(inner)) {
        const value = slot(inner);
        if (value === undefined)
          throw new Error(`generator template: unknown slot {${inner}} in "${template}"`);
        return value;
      }
      if (!inner.includes('|')) throw new Error(`generator template: "{${inner}}" in "${template}"`);
      return random.pick(inner.split('|'));
    });
    if (!changed) return text;
  }
  throw new Error(`generator template: nesting too deep in "${template}"`);
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function slug(random: Random, length: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[random.int(alphabet.length)];
  return s;
}

export function randomUrl(random: Random, lang: Lang, purpose: 'link' | 'news' | 'media'): string {
  if (purpose === 'news') {
    return random.pick(
      lang === 'ja'
        ? [
            `https://news.example.jp/articles/${random.between(100000, 999999)}`,
            `https://www.example.co.jp/tech/${random.between(2019, 2025)}/${slug(random, 8, 'abcdefghijklmnopqrstuvwxyz0123456789')}`,
            `https://blog.example.jp/entry/${random.between(2019, 2025)}/${String(random.between(1, 12)).padStart(2, '0')}/${random.between(100000, 999999)}`,
          ]
        : [
            `https://techcrunch.example.com/${random.between(2019, 2025)}/${slug(random, 10, 'abcdefghijklmnopqrstuvwxyz-')}`,
            `https://www.example.com/blog/${slug(random, 12, 'abcdefghijklmnopqrstuvwxyz-')}`,
          ],
    );
  }
  if (purpose === 'media') {
    return random.pick([
      `https://t.co/${slug(random, 10)}`,
      `https://imgur.com/${slug(random, 7)}`,
      `https://pbs.example.com/media/${slug(random, 15)}.jpg`,
    ]);
  }
  return random.pick([
    `https://t.co/${slug(random, 10)}`,
    `https://t.co/${slug(random, 10)}`,
    `https://www.youtube.com/watch?v=${slug(random, 11)}`,
    `https://bit.ly/${slug(random, 7)}`,
  ]);
}

/** A common number, word from the vocabulary, or the brand/near-miss placeholders. */
export function slotValue(ctx: ComposeContext, name: string, features: () => string): string | undefined {
  const { random, vocab } = ctx;
  switch (name) {
    case 'B':
      return BRAND;
    case 'NM':
      return NEAR;
    case 'F':
      return features();
    case 'N':
      return String(random.between(2, 9));
    case 'NN':
      return String(random.between(10, 99));
    case 'DAY':
      return String(random.between(1, 28));
    case 'PCT':
      return String(random.pick([12, 30, 47, 50, 63, 80, 88, 95, 99, 99]));
    case 'H':
      return `@${ctx.otherHandle()}`;
    default: {
      const words = vocab.words[name];
      return words === undefined ? undefined : random.pick(words);
    }
  }
}

function emojiRun(random: Random, list: readonly string[]): string {
  const e = random.pick(list);
  const r = random.next();
  if (r < 0.7) return e;
  if (r < 0.85) return e + random.pick(list);
  return e + e + e;
}

const endsWithPunct = (s: string) => /[。、！？!?…．.,~〜♪ｗw笑草)）」]$/.test(s);

/** Join two sentences the way people do in each language. */
function joinSentences(random: Random, lang: Lang, a: string, b: string, polite: boolean): string {
  if (a === '') return b;
  if (b === '') return a;
  if (lang === 'ja') {
    if (endsWithPunct(a)) return a + random.pick(['', '', ' ', '\n']) + b;
    const sep = polite
      ? random.pick(['。', '。', '、'])
      : random.pick(['', ' ', ' ', '　', '\n', '。', '、', '…', '！']);
    return a + sep + b;
  }
  if (/[.!?]$/.test(a)) return `${a} ${b}`;
  const sep = polite ? '. ' : random.pick(['. ', ', ', ' - ', ' ', '\n', '... ', '! ']);
  return a + sep + b;
}

function joinOpener(random: Random, lang: Lang, opener: string, body: string): string {
  if (opener === '') return body;
  // "Hi, Hi, ..." and "今日も今日の..." read like a machine.
  if (/^(hi|hello|hey)\b/i.test(body) || body.slice(0, 2) === opener.slice(0, 2)) return body;
  if (lang === 'en') return `${opener} ${body}`;
  if (/[、：:。！？】]$/.test(opener)) return opener + body;
  return opener + random.pick(['、', ' ', '', '\n']) + body;
}

/** One slip of the keyboard or the IME, never inside the placeholders. */
export function applyTypo(random: Random, vocab: Vocabulary, lang: Lang, text: string): string | null {
  const known = vocab.typos.filter(([right]) => text.includes(right));
  if (known.length > 0 && random.chance(0.6)) {
    const [right, wrong] = random.pick(known);
    return text.replace(right, wrong);
  }
  if (lang === 'en') {
    const words = [...text.matchAll(/[A-Za-z]{4,}/g)];
    if (words.length === 0) return null;
    const m = random.pick(words);
    const w = m[0];
    const at = m.index;
    const i = random.between(1, w.length - 2);
    let typo: string;
    switch (random.int(3)) {
      case 0:
        typo = w.slice(0, i) + (w[i + 1] ?? '') + (w[i] ?? '') + w.slice(i + 2);
        break;
      case 1:
        typo = w.slice(0, i) + w.slice(i + 1);
        break;
      default:
        typo = w.slice(0, i + 1) + w.slice(i);
    }
    return text.slice(0, at) + typo + text.slice(at + w.length);
  }
  const kana = [...text.matchAll(/[\u3041-\u3096\u30a1-\u30fa]/g)];
  if (kana.length === 0) return null;
  const m = random.pick(kana);
  const at = m.index;
  switch (random.int(3)) {
    case 0:
      return text.slice(0, at + 1) + m[0] + text.slice(at + 1);
    case 1:
      return kana.length > 3 ? text.slice(0, at) + text.slice(at + 1) : null;
    default:
      return text.slice(0, at + 1) + random.pick(['k', 's', 't', 'n', 'm', 'r']) + text.slice(at + 1);
  }
}

const WORDISH = /[\p{Script=Latin}\p{Nd}_]/u;
const isWordish = (ch: string | undefined) => ch !== undefined && WORDISH.test(ch.normalize('NFKC'));

/** Put `word` where `marker` stands, with a space where it would otherwise run into a Latin word. */
export function place(text: string, marker: string, word: () => string): string {
  let out = '';
  let last = 0;
  for (let i = text.indexOf(marker); i !== -1; i = text.indexOf(marker, i + 1)) {
    const w = word();
    const before = text[i - 1];
    const after = text[i + 1];
    out += text.slice(last, i);
    if (isWordish(before) && isWordish(w[0])) out += ' ';
    out += w;
    if (isWordish(after) && isWordish(w[w.length - 1])) out += ' ';
    last = i + 1;
  }
  return out + text.slice(last);
}

export interface Decorations {
  /** Probabilities. */
  readonly opener: number;
  readonly feeling: number;
  readonly ending: number;
  readonly emoji: number;
  readonly typo: number;
  readonly reply: number;
  readonly hashtag: number;
  readonly url: number;
  readonly urlPurpose: 'link' | 'news' | 'media';
}

/**
 * The common shape of a person's post: [@reply] [opener] body [feeling][ending][emoji] [#tag] [url].
 * Returns the text with the placeholders still in.
 */
export function decorate(
  ctx: ComposeContext,
  body: string,
  tone: Tone,
  polite: boolean,
  d: Decorations,
  brandHashtag: (() => string) | null,
): Composition {
  const { random, vocab, lang } = ctx;
  const traits: GeneratedTrait[] = [];
  const register = polite ? 'polite' : 'casual';
  if (polite) traits.push('polite');
  let text = body;
  if (random.chance(d.opener)) {
    const opener = random.pick(vocab.openers[tone][register]);
    text = joinOpener(random, lang, opener, text);
  }
  if (random.chance(d.feeling))
    text = joinSentences(random, lang, text, random.pick(vocab.feelings[tone][register]), polite);
  if (!polite && random.chance(d.ending)) {
    const ending = random.pick(vocab.endings[tone]);
    text = /[。.]$/.test(text) && ending !== '' ? text.slice(0, -1) + ending : text + ending;
  }
  if (lang === 'en') {
    if (polite) text = capitaliseFirst(text);
    else {
      const r = random.next();
      if (tone === 'neg' && r < 0.03) text = text.toUpperCase();
      else if (r < 0.4) text = text.toLowerCase();
      else if (r < 0.75) text = capitaliseFirst(text);
    }
  }
  if (random.chance(d.typo)) {
    const typo = applyTypo(random, vocab, lang, text);
    if (typo !== null && typo !== text) {
      text = typo;
      traits.push('typo');
    }
  }
  if (random.chance(polite ? d.emoji / 3 : d.emoji)) {
    const run = emojiRun(random, vocab.emoji[tone]);
    text += lang === 'ja' && random.chance(0.6) ? run : ` ${run}`;
    traits.push('emoji');
  }
  if (random.chance(d.reply)) {
    const n = random.chance(0.15) ? 2 : 1;
    const handles: string[] = [];
    for (let i = 0; i < n; i++) handles.push(`@${ctx.otherHandle()}`);
    text = `${handles.join(' ')} ${text}`;
    traits.push('reply');
  }
  if (random.chance(d.hashtag)) {
    const tag =
      brandHashtag !== null && random.chance(0.5) ? `#${brandHashtag()}` : random.pick(vocab.hashtags[tone]);
    text += random.chance(0.7) ? ` ${tag}` : `\n${tag}`;
    traits.push('hashtag');
  }
  if (random.chance(d.url)) {
    text += `${random.chance(0.8) ? ' ' : '\n'}${randomUrl(random, lang, d.urlPurpose)}`;
    traits.push('url');
  }
  if (SLANG.test(text)) traits.push('slang');
  return { text, traits };
}

function capitaliseFirst(text: string): string {
  return text.replace(/^[a-z]/, (c) => c.toUpperCase());
}

export const markers = { BRAND, NEAR } as const;
