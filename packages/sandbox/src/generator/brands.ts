import {
  foldText,
  hasJapanese,
  hasKana,
  hasLatin,
  hiraganaToKatakana,
  katakanaToHiragana,
  namesIn,
  toFullWidthLatin,
  toHalfWidthKana,
} from './text.ts';

/** A brand the generator writes about. */
export interface GeneratorBrand {
  /** Ways people write the name, e.g. ['しおりノート', 'ｼｵﾘﾉｰﾄ', 'しおりnote', 'Shiori Note', 'shiorinote']. */
  names: string[];
  /** Our official account handles (they post announcements). */
  officialHandles?: string[];
  /** Product words: features and things that break, e.g. ['本棚', '同期', 'ログイン', 'bookshelf', 'sync']. */
  features?: string[];
}

/** The fictional brand of the demo world. */
export const demoBrand: GeneratorBrand = {
  names: ['しおりノート', 'ｼｵﾘﾉｰﾄ', 'しおりnote', 'Shiori Note', 'shiorinote'],
  officialHandles: ['shiorinote_jp', 'shiorinote_support'],
  features: [
    '本棚',
    '同期',
    'ログイン',
    'バーコード読み取り',
    '読書メモ',
    '積読リスト',
    '読了ログ',
    'レビュー',
    'bookshelf',
    'sync',
    'barcode scanner',
    'reading log',
    'reviews',
    'to-read list',
  ],
};

const DEFAULT_FEATURES_JA = [
  'ログイン',
  '同期',
  '通知',
  '検索',
  'バックアップ',
  'アップデート',
  '設定画面',
  'アカウント',
  '決済',
  'プレミアム',
  'ウィジェット',
  'ダークモード',
  'エクスポート',
  '共有機能',
  'アプリ',
];
const DEFAULT_FEATURES_EN = [
  'login',
  'sync',
  'notifications',
  'search',
  'backup',
  'updates',
  'settings',
  'account page',
  'payments',
  'premium',
  'widgets',
  'dark mode',
  'export',
  'sharing',
  'offline mode',
];

type Weighted = readonly (readonly [string, number])[];

/** A brand prepared for generation: its written forms, features, near-miss look-alikes and accounts. */
export interface CompiledBrand {
  readonly brand: GeneratorBrand;
  /** The first name: how posts are attributed to the brand. */
  readonly label: string;
  readonly names: readonly string[];
  /** Written forms (given names plus case, width and script variants), weighted per language. */
  readonly formsJa: Weighted;
  readonly formsEn: Weighted;
  /** Forms usable as a hashtag (no spaces). */
  readonly hashtagForms: readonly string[];
  readonly featuresJa: readonly string[];
  readonly featuresEn: readonly string[];
  readonly defaultFeaturesJa: readonly string[];
  readonly defaultFeaturesEn: readonly string[];
  /** Words that look like the brand but are not it. */
  readonly nearMissesJa: Weighted;
  readonly nearMissesEn: Weighted;
  readonly officialHandles: readonly string[];
  /** Names to sign official posts with. */
  readonly displayJa: string;
  readonly displayEn: string;
}

function addForm(forms: Map<string, number>, form: string, weight: number) {
  if (form.trim() === '') return;
  forms.set(form, (forms.get(form) ?? 0) + weight);
}

/** The name as given plus the ways people also type it; every form folds to a given name. */
function writtenForms(names: readonly string[]): Map<string, number> {
  const forms = new Map<string, number>();
  for (const name of names) {
    addForm(forms, name, 6);
    if (hasLatin(name)) {
      const ascii = name.normalize('NFKC');
      addForm(forms, ascii.toLowerCase(), 1.5);
      addForm(forms, ascii.toUpperCase(), 0.6);
      addForm(forms, toFullWidthLatin(ascii), 0.5);
      addForm(forms, toFullWidthLatin(ascii.toUpperCase()), 0.4);
    }
    if (hasKana(name)) {
      const half = toHalfWidthKana(name);
      if (half !== null) addForm(forms, half, 1.2);
      const full = name.normalize('NFKC');
      const hira = katakanaToHiragana(full);
      const kata = hiraganaToKatakana(full);
      if (hira !== full) addForm(forms, hira, 0.5);
      if (kata !== full) addForm(forms, kata, 0.5);
    }
  }
  return forms;
}

const GOJUON = [
  'あいうえお',
  'かきくけこ',
  'さしすせそ',
  'たちつてと',
  'なにぬねの',
  'はひふへほ',
  'まみむめも',
  'やゆよ',
  'らりるれろ',
  'わを',
];

function sameScript(original: string, hira: string): string {
  return /[\u30a1-\u30fa]/.test(original) ? hiraganaToKatakana(hira) : hira;
}

/** One-kana changes of a kana character: voicing toggled, or the vowel changed within its row. */
function kanaVariants(ch: string): string[] {
  const out: string[] = [];
  const decomposed = ch.normalize('NFD');
  if (decomposed.length === 2) out.push(decomposed[0] as string);
  else {
    const voiced = `${ch}\u3099`.normalize('NFC');
    if (voiced.length === 1) out.push(voiced);
  }
  const hira = katakanaToHiragana(decomposed[0] ?? ch);
  const row = GOJUON.find((r) => r.includes(hira));
  if (row !== undefined) {
    for (const other of row) if (other !== hira) out.push(sameScript(ch, other));
  }
  return out;
}

const isKanaChar = (ch: string): boolean => /^[\u3041-\u3096\u30a1-\u30fa]$/.test(ch);

function capitalise(word: string, like: string): string {
  return /^[A-Z]/.test(like) ? (word[0] ?? '').toUpperCase() + word.slice(1) : word;
}

function withSuffix(word: string, suffix: string): string {
  const lower = word.toLowerCase();
  if (/^(ing|er|ers|ish)$/.test(suffix) && lower.endsWith('e') && !lower.endsWith('ee')) {
    return word.slice(0, -1) + suffix;
  }
  if (/^(ing|er|ers)$/.test(suffix) && /[aeiou][bdgklmnprt]$/.test(lower) && !/[aeiou]{2}.$/.test(lower)) {
    return word + word.slice(-1) + suffix;
  }
  return word + suffix;
}

/** Look-alikes of one name, weighted by how natural they read. */
function nearMissCandidates(name: string): [string, number][] {
  const out: [string, number][] = [];
  const ascii = name.normalize('NFKC').trim();
  if (/[A-Za-z]$/.test(ascii)) {
    for (const suffix of ['s', 'ing', 'er', 'ers', 'ly', 'ish', 'ify', 'book', 'pad', 'hub', 'x', 'ster']) {
      out.push([withSuffix(ascii, suffix), 2]);
    }
  }
  if (/^[A-Za-z]/.test(ascii) && !/\s/.test(ascii)) {
    for (const prefix of ['my', 're', 'un', 'neo', 'e']) out.push([capitalise(prefix, ascii) + ascii, 1]);
  }
  const tokens = ascii.split(
    /\s+|(?<=[\p{Script=Hiragana}\p{Script=Katakana}ー])(?=[A-Za-z])|(?<=[A-Za-z])(?=[\p{Script=Hiragana}\p{Script=Katakana}])/u,
  );
  if (tokens.length > 1) for (const token of tokens) if ([...token].length >= 2) out.push([token, 3]);
  if (tokens.length === 1 && /^[A-Za-z]{6,}$/.test(ascii)) {
    const cut = Math.max(4, Math.floor(ascii.length / 2));
    out.push([ascii.slice(0, cut), 2]);
    if (ascii.length - cut >= 4) out.push([ascii.slice(cut), 1]);
  }
  // Kana: one kana changed or dropped, or a part of the name that is a word of its own.
  const chars = [...name.normalize('NFKC')];
  const kanaCount = chars.filter(isKanaChar).length;
  if (kanaCount >= 2) {
    chars.forEach((ch, i) => {
      if (!isKanaChar(ch)) return;
      for (const variant of kanaVariants(ch))
        out.push([[...chars.slice(0, i), variant, ...chars.slice(i + 1)].join(''), 0.4]);
      if (kanaCount >= 3) out.push([[...chars.slice(0, i), ...chars.slice(i + 1)].join(''), 0.8]);
    });
    const runs =
      name
        .normalize('NFKC')
        .match(
          /[\p{Script=Hiragana}ー]+|[\p{Script=Katakana}ー]+|[^\p{Script=Hiragana}\p{Script=Katakana}ー]+/gu,
        ) ?? [];
    if (runs.length === 1 && chars.length >= 4) {
      out.push([chars.slice(0, 2).join(''), 1.5]);
      out.push([chars.slice(-2).join(''), 2]);
      out.push([chars.slice(1).join(''), 1]);
    }
  }
  return out;
}

function splitFeatures(features: readonly string[]): { ja: string[]; en: string[] } {
  const ja: string[] = [];
  const en: string[] = [];
  for (const feature of features) {
    const f = feature.trim();
    if (f === '') continue;
    if (hasJapanese(f)) ja.push(f);
    else en.push(f);
  }
  return { ja, en };
}

export function compileBrands(brands: readonly GeneratorBrand[]): CompiledBrand[] {
  if (brands.length === 0) throw new Error('createPostGenerator: at least one brand is required');
  const allNames = brands.flatMap((b) => b.names.map((n) => n.trim()).filter((n) => n !== ''));
  const namesAny = (text: string) => allNames.some((name) => namesIn(text, name));
  return brands.map((brand, index) => {
    const names = [...new Set(brand.names.map((n) => n.trim()).filter((n) => n !== ''))];
    if (names.length === 0) throw new Error(`createPostGenerator: brand ${index} has no names`);
    const forms = writtenForms(names);
    const anyLatin = [...forms.keys()].some(hasLatin);
    const formsJa: [string, number][] = [];
    const formsEn: [string, number][] = [];
    for (const [form, weight] of forms) {
      const latin = hasLatin(form) && !hasJapanese(form);
      formsJa.push([form, latin ? weight * 0.4 : weight]);
      formsEn.push([form, latin || !anyLatin ? weight : weight * 0.02]);
    }
    const nearMiss = new Map<string, number>();
    for (const name of names) {
      for (const [word, weight] of nearMissCandidates(name)) {
        if ([...word.trim()].length < 2 || namesAny(word)) continue;
        if (foldText(word).trim() === '') continue;
        nearMiss.set(word, (nearMiss.get(word) ?? 0) + weight);
      }
    }
    const nearMissesJa = [...nearMiss].map(([w, weight]): [string, number] => [w, weight]);
    const latinMisses = nearMissesJa.filter(([w]) => !hasJapanese(w));
    const nearMissesEn = latinMisses.length > 0 ? latinMisses : nearMissesJa;
    const { ja, en } = splitFeatures(brand.features ?? []);
    const jaName = names.find((n) => hasJapanese(n) && !/[\uff61-\uff9f]/.test(n)) ?? names[0] ?? '';
    const enName =
      names.find((n) => hasLatin(n) && !hasJapanese(n) && /[A-Z]/.test(n)) ??
      names.find(hasLatin) ??
      names[0] ??
      '';
    return {
      brand,
      label: names[0] as string,
      names,
      formsJa,
      formsEn,
      hashtagForms: [...forms.keys()].filter((f) => !/\s/.test(f) && !/[\uff01-\uff5e]/.test(f)),
      featuresJa: ja,
      featuresEn: en,
      defaultFeaturesJa: DEFAULT_FEATURES_JA,
      defaultFeaturesEn: DEFAULT_FEATURES_EN,
      nearMissesJa,
      nearMissesEn,
      officialHandles: (brand.officialHandles ?? [])
        .map((h) => h.replace(/^[@＠]/, '').trim())
        .filter((h) => h !== ''),
      displayJa: jaName,
      displayEn: enName,
    };
  });
}
