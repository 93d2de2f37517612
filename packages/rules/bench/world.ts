/**
 * A deterministic synthetic world for benchmarks: brand names written in Latin script and katakana,
 * watches of several realistic shapes, and a mixed Japanese/English stream of ~100-character posts in
 * which a minority mention a watched brand (as on real social media).
 */

const SYLLABLES: ReadonlyArray<readonly [string, string]> = [
  ['ka', 'カ'],
  ['ki', 'キ'],
  ['ku', 'ク'],
  ['ko', 'コ'],
  ['sa', 'サ'],
  ['shi', 'シ'],
  ['su', 'ス'],
  ['ta', 'タ'],
  ['te', 'テ'],
  ['to', 'ト'],
  ['na', 'ナ'],
  ['ni', 'ニ'],
  ['no', 'ノ'],
  ['ha', 'ハ'],
  ['mi', 'ミ'],
  ['mo', 'モ'],
  ['ra', 'ラ'],
  ['ri', 'リ'],
  ['ro', 'ロ'],
  ['ze', 'ゼ'],
  ['bu', 'ブ'],
  ['do', 'ド'],
  ['ga', 'ガ'],
  ['pi', 'ピ'],
  ['po', 'ポ'],
  ['yu', 'ユ'],
  ['me', 'メ'],
  ['ke', 'ケ'],
];

/** A small seeded PRNG (mulberry32) so every run sees the same world. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Brand {
  readonly latin: string;
  readonly kana: string;
}

export function createBrands(count: number, seed = 1): Brand[] {
  const random = createRandom(seed);
  const seen = new Set<string>();
  const brands: Brand[] = [];
  while (brands.length < count) {
    const length = 3 + Math.floor(random() * 3);
    let latin = '';
    let kana = '';
    for (let i = 0; i < length; i++) {
      const [l, k] = SYLLABLES[Math.floor(random() * SYLLABLES.length)] as readonly [string, string];
      latin += l;
      kana += k;
    }
    if (seen.has(latin)) continue;
    seen.add(latin);
    brands.push({ latin, kana });
  }
  return brands;
}

/** Watch queries in the shapes teams write: names alone, names with a topic, exclusions, hashtags. */
export function watchQuery(brand: Brand, index: number): string {
  const name = brand.latin[0]?.toUpperCase() + brand.latin.slice(1);
  switch (index % 5) {
    case 0:
      return `${name} OR ${brand.kana}`;
    case 1:
      return `(${name} OR ${brand.kana}) (落ちてる OR エラー OR ログイン OR "not working" OR down) -from:${brand.latin}_official`;
    case 2:
      return `(${brand.kana} OR #${brand.latin}) -is:repost`;
    case 3:
      return `("${name} app" OR ${brand.kana}アプリ OR ${name}) lang:ja`;
    default:
      return `${brand.kana} OR ${name} OR @${brand.latin}_support`;
  }
}

const JA = [
  '{b}が朝から落ちてるっぽい、ログインできない…',
  '{b}の新機能めっちゃ便利！ありがとう',
  '{b}アプリ、アップデートしてから使いにくくなった気がする',
  '{b}って解約どこからできるんだろう？',
  '今日は雨なので家でのんびり本を読んでいます。おすすめある？',
  'ランチはカレーにした。駅前の新しい店、なかなか良かった',
  '電車が遅れてて会議に間に合わなそう。つらい',
  '週末はキャンプ行く予定！天気もちそうでよかった',
  '{b}のポイント、いつの間にか消えてて草',
  'ﾌﾟﾚｾﾞﾝﾄ企画やってます！フォロー＆RTで応募 https://example.com/campaign?id=123',
];
const EN = [
  "{b} is down again?? can't log in since this morning",
  'Honestly {b} is the best app I have used this year, thank you team',
  'Is there a way to export my data from {b}? asking for a friend',
  'The new {b} update is terrible, everything moved around',
  'Coffee, rain, and a good book. Perfect Sunday afternoon.',
  'Traffic on the bridge is awful today, took me an hour to get home',
  'Watching the game tonight with friends, who do you think wins?',
  'New blog post about gardening tips: https://blog.example.org/posts/2026/11/garden',
  'Anyone else having trouble with the {b} checkout page? keeps timing out',
  'Just finished a 10k run, legs are jelly but worth it',
];

export interface BenchPost {
  readonly text: string;
  readonly lang: 'ja' | 'en';
}

/** `count` posts; about a third mention one of `brands` (Latin or kana form, sometimes half-width). */
export function createPosts(count: number, brands: readonly Brand[], seed = 2): BenchPost[] {
  const random = createRandom(seed);
  const posts: BenchPost[] = [];
  for (let i = 0; i < count; i++) {
    const ja = random() < 0.6;
    const pool = ja ? JA : EN;
    const template = pool[Math.floor(random() * pool.length)] as string;
    const brand = brands[Math.floor(random() * brands.length)] as Brand;
    const mention = random() < 0.35;
    const form = ja && random() < 0.7 ? brand.kana : brand.latin;
    const first = template.replace('{b}', mention ? form : ja ? 'あのサービス' : 'that app');
    // Real posts run to about a hundred characters: add a second, unrelated sentence.
    const second = (pool[Math.floor(random() * pool.length)] as string).replace('{b}', ja ? 'それ' : 'it');
    posts.push({ text: `${first}${ja ? '' : ' '}${second}`, lang: ja ? 'ja' : 'en' });
  }
  return posts;
}
