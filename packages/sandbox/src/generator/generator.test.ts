import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BRAND_KINDS,
  createPostGenerator,
  DEFAULT_MIX,
  GENERATED_KINDS,
  type GeneratedKind,
  type GeneratedPost,
  type GeneratorBrand,
  runGenerator,
} from './index.ts';

const NOW = new Date('2025-06-01T09:30:00.000Z');
const now = () => NOW;

const shiori: GeneratorBrand = {
  names: ['しおりノート', 'ｼｵﾘﾉｰﾄ', 'しおりnote', 'Shiori Note', 'shiorinote'],
  officialHandles: ['shiorinote_jp', 'shiori_support'],
  features: ['本棚', '同期', 'ログイン', 'バーコード読み取り', 'bookshelf', 'sync'],
};
const booklog: GeneratorBrand = { names: ['ブクログ', 'booklog'], officialHandles: ['booklog_jp'] };

// The check is written independently of the generator's own: NFKC, lower case, katakana → hiragana,
// and Latin-edged names only on word boundaries.
const fold = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
const isWord = (c: string | undefined) => c !== undefined && /[\p{Script=Latin}0-9_]/u.test(c);
function names(text: string, name: string): boolean {
  const t = fold(text);
  const n = fold(name);
  for (let i = t.indexOf(n); i !== -1; i = t.indexOf(n, i + 1)) {
    if (isWord(n[0]) && isWord(t[i - 1])) continue;
    if (isWord(n[n.length - 1]) && isWord(t[i + n.length])) continue;
    return true;
  }
  return false;
}
const brandOf = (post: GeneratedPost, brands: GeneratorBrand[]) =>
  brands.find((b) => b.names[0] === post.brand);

const count = (posts: GeneratedPost[], kind: GeneratedKind) => posts.filter((p) => p.kind === kind).length;

describe('createPostGenerator', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = createPostGenerator({ seed: 7, brands: [shiori], now }).take(300);
    const b = createPostGenerator({ seed: 7, brands: [shiori], now }).take(300);
    const c = createPostGenerator({ seed: 8, brands: [shiori], now }).take(300);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.map((p) => p.text)).not.toEqual(c.map((p) => p.text));
    expect(createPostGenerator({ seed: 7, brands: [shiori], now }).authors).toEqual(
      createPostGenerator({ seed: 7, brands: [shiori], now }).authors,
    );
  });

  it('never uses Math.random', () => {
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random called');
    });
    expect(() => createPostGenerator({ seed: 3, brands: [shiori, booklog] }).take(2000)).not.toThrow();
  });

  it('follows the default mix and the Japanese share over 5,000 posts', () => {
    const posts = createPostGenerator({ seed: 11, brands: [shiori], now }).take(5000);
    const total = Object.values(DEFAULT_MIX).reduce((s, w) => s + w, 0);
    for (const kind of GENERATED_KINDS) {
      const expected = DEFAULT_MIX[kind] / total;
      expect(Math.abs(count(posts, kind) / posts.length - expected), kind).toBeLessThan(0.025);
    }
    const japanese = posts.filter((p) => p.lang === 'ja').length / posts.length;
    expect(Math.abs(japanese - 0.65)).toBeLessThan(0.03);
  });

  it('honours a custom mix and Japanese share', () => {
    const posts = createPostGenerator({
      seed: 2,
      brands: [shiori],
      mix: { noise: 0, trouble: 30, repost: 0, official: 0, 'near-miss': 0 },
      japanese: 0.2,
      now,
    }).take(3000);
    expect(count(posts, 'noise') + count(posts, 'repost') + count(posts, 'official')).toBe(0);
    const total = 30 + 12 + 10 + 10 + 8;
    expect(Math.abs(count(posts, 'trouble') / posts.length - 30 / total)).toBeLessThan(0.03);
    expect(Math.abs(posts.filter((p) => p.lang === 'ja').length / posts.length - 0.2)).toBeLessThan(0.03);
    expect(
      createPostGenerator({ brands: [shiori], japanese: 1 })
        .take(300)
        .every((p) => p.lang === 'ja'),
    ).toBe(true);
    expect(
      createPostGenerator({ brands: [shiori], japanese: 0 })
        .take(300)
        .every((p) => p.lang === 'en'),
    ).toBe(true);
  });

  it('rejects impossible options', () => {
    expect(() => createPostGenerator({ brands: [] })).toThrow(/brand/);
    expect(() => createPostGenerator({ brands: [{ names: ['  '] }] })).toThrow(/names/);
    expect(() => createPostGenerator({ brands: [shiori], mix: { noise: -1 } })).toThrow(/mix\.noise/);
    expect(() => createPostGenerator({ brands: [shiori], japanese: 1.5 })).toThrow(/japanese/);
    const onlyReposts = Object.fromEntries(GENERATED_KINDS.map((k) => [k, k === 'repost' ? 1 : 0]));
    expect(() => createPostGenerator({ brands: [shiori], mix: onlyReposts })).toThrow(/repost/);
  });

  it('names the brand in every brand-bearing post, and no brand in noise or near-misses', () => {
    const brands = [shiori, booklog];
    const posts = createPostGenerator({ seed: 5, brands, now }).take(5000);
    const allNames = brands.flatMap((b) => b.names);
    const seenBrands = new Set<string>();
    for (const post of posts) {
      if (BRAND_KINDS.includes(post.kind)) {
        const brand = brandOf(post, brands);
        expect(brand, post.text).toBeDefined();
        expect(
          brand?.names.some((n) => names(post.text, n)),
          `${post.kind}: ${post.text}`,
        ).toBe(true);
        seenBrands.add(post.brand ?? '');
      } else {
        expect(post.brand).toBeUndefined();
        const hit = allNames.find((n) => names(post.text, n));
        expect(hit, `${post.kind} names "${hit}": ${post.text}`).toBeUndefined();
      }
    }
    expect(seenBrands).toEqual(new Set(['しおりノート', 'ブクログ']));
  });

  it('writes near-misses that look like a brand name', () => {
    const brands = [shiori, booklog];
    const posts = createPostGenerator({ seed: 6, brands, now, mix: { 'near-miss': 50 } }).take(2000);
    const nearMisses = posts.filter((p) => p.kind === 'near-miss');
    expect(nearMisses.length).toBeGreaterThan(400);
    const folded = brands.flatMap((b) => b.names.map(fold));
    const grams = (s: string, n: number) =>
      Array.from({ length: Math.max(0, s.length - n + 1) }, (_, i) => s.slice(i, i + n));
    for (const post of nearMisses) {
      const t = fold(post.text);
      // Shares a run of the name: two kana or four Latin letters.
      const close = folded.some(
        (n) =>
          grams(n, 2).some((g) => /^[\u3041-\u309f\u30fc]{2}$/.test(g) && t.includes(g)) ||
          grams(n, 4).some((g) => /^[a-z]{4}$/.test(g) && t.includes(g)),
      );
      expect(close, post.text).toBe(true);
    }
    const texts = nearMisses.map((p) => p.text).join('\n');
    // The shapes the brief asks for: a Latin suffix, a changed or dropped kana, a part of the name.
    expect(texts).toMatch(/booklog[a-z]+|shiorinote[a-z]+/i);
    expect(texts).toMatch(/ブログ|ブクロ[^グ]|[^ブ]クログ/);
  });

  it('reposts earlier brand posts by someone else, X style', () => {
    const posts = createPostGenerator({ seed: 9, brands: [shiori], now }).take(3000);
    const byRef = new Map(posts.map((p, i) => [p.ref, { post: p, index: i }]));
    const reposts = posts.filter((p) => p.kind === 'repost');
    expect(reposts.length).toBeGreaterThan(60);
    reposts.forEach((repost) => {
      const original = byRef.get(repost.repostOfRef ?? '');
      expect(original, repost.ref).toBeDefined();
      if (original === undefined) return;
      expect(original.index).toBeLessThan(posts.indexOf(repost));
      expect(['repost', 'noise', 'near-miss']).not.toContain(original.post.kind);
      expect(original.post.author.protected).toBe(false);
      expect(repost.text).toBe(`RT @${original.post.author.handle}: ${original.post.text}`);
      expect(repost.author.handle).not.toBe(original.post.author.handle);
      expect(repost.lang).toBe(original.post.lang);
      expect(repost.repostOf).toBeUndefined();
    });
    expect(posts.map((p) => p.ref)).toEqual(posts.map((_, i) => `g${i + 1}`));
  });

  it('posts announcements from the official accounts only, and none without them', () => {
    const posts = createPostGenerator({ seed: 4, brands: [shiori], now }).take(3000);
    const official = posts.filter((p) => p.kind === 'official');
    expect(official.length).toBeGreaterThan(40);
    for (const post of official) {
      expect(shiori.officialHandles).toContain(post.author.handle);
      expect(post.text).toMatch(/^【|^\[|^(We|Resolved|New in|Heads up|Try|We just)/);
    }
    for (const post of posts.filter((p) => p.kind !== 'official')) {
      expect(shiori.officialHandles).not.toContain(post.author.handle);
    }
    const none = createPostGenerator({ seed: 4, brands: [{ names: ['booklog'] }], now }).take(2000);
    expect(count(none, 'official')).toBe(0);
  });

  it('varies: at least 90% distinct texts in 2,000 posts, and within each kind', () => {
    const posts = createPostGenerator({ seed: 12, brands: [shiori], now }).take(2000);
    expect(new Set(posts.map((p) => p.text)).size / posts.length).toBeGreaterThanOrEqual(0.9);
    for (const kind of ['praise', 'complaint', 'trouble', 'question', 'neutral', 'noise'] as const) {
      const texts = posts.filter((p) => p.kind === kind).map((p) => p.text);
      expect(new Set(texts).size / texts.length, kind).toBeGreaterThan(0.85);
    }
  });

  it('writes like people on social media', () => {
    const posts = createPostGenerator({ seed: 13, brands: [shiori], now }).take(5000);
    const all = posts.map((p) => p.text).join('\n');
    // The written forms, incl. derived half-width kana and full-width Latin.
    for (const form of ['しおりノート', 'ｼｵﾘﾉｰﾄ', 'しおりnote', 'Shiori Note', 'shiorinote'])
      expect(all).toContain(form);
    expect(all).toMatch(/[Ａ-Ｚａ-ｚ]{4}/);
    // Slang, abbreviations, emoji and kaomoji, hashtags, URLs, official mentions, replies.
    for (const word of ['草', 'ｗ', 'マジ', '神', '詰んだ', 'ぴえん', ' lol', 'smh', 'tbh', 'pls'])
      expect(all).toContain(word);
    expect(all).toMatch(/\p{Extended_Pictographic}/u);
    expect(all).toMatch(/\(´；ω；`\)|\(\*´▽｀\*\)|orz/);
    expect(all).toMatch(/#\S+/);
    expect(all).toMatch(/https:\/\/\S+/);
    expect(all).toMatch(/@shiori(note_jp|_support)/);
    expect(posts.some((p) => /^@\w+ /.test(p.text) && p.kind !== 'repost')).toBe(true);
    // Both registers, typos, negated complaints that are not complaints.
    expect(all).toMatch(/ます。|ください|でしょうか/);
    expect(posts.filter((p) => p.traits.includes('typo')).length).toBeGreaterThan(100);
    const negated = posts.filter((p) => p.traits.includes('negated'));
    expect(negated.some((p) => p.kind === 'praise')).toBe(true);
    expect(negated.some((p) => p.kind === 'neutral')).toBe(true);
    expect(negated.every((p) => p.kind === 'praise' || p.kind === 'neutral')).toBe(true);
    expect(negated.map((p) => p.text).join('\n')).toMatch(/悪くない|not bad/);
    // Languages look like themselves.
    for (const post of posts) {
      if (post.lang === 'ja')
        expect(post.text, post.text).toMatch(/[\u3041-\u30ff\u4e00-\u9fff\uff66-\uff9d]/);
    }
    const englishWithKana = posts.filter((p) => p.lang === 'en' && /[\u3041-\u30ff]/.test(p.text)).length;
    expect(englishWithKana / posts.filter((p) => p.lang === 'en').length).toBeLessThan(0.05);
    // Clean output: no template syntax or placeholders left, within X's length.
    for (const post of posts) {
      expect(post.text).not.toMatch(/[{}]|undefined|NaN/);
      expect(
        [...post.text].filter((c) => c < ' ' && c !== '\n'),
        post.text,
      ).toEqual([]);
      expect(post.text.trim()).toBe(post.text);
      expect(post.createdAt).toEqual(NOW);
    }
  });

  it('draws authors from a plausible pool', () => {
    const generator = createPostGenerator({ seed: 21, brands: [shiori], now });
    const { authors } = generator;
    expect(authors).toHaveLength(500);
    expect(new Set(authors.map((a) => a.handle.toLowerCase())).size).toBe(500);
    expect(new Set(authors.map((a) => a.id)).size).toBe(500);
    for (const a of authors) expect(a.handle).toMatch(/^[A-Za-z0-9_]{1,15}$/);
    const followers = authors.map((a) => a.followers).sort((x, y) => x - y);
    expect(followers.filter((f) => f < 500).length / 500).toBeGreaterThan(0.8);
    expect(followers.filter((f) => f > 10_000).length).toBeGreaterThanOrEqual(3);
    expect(followers[0]).toBeGreaterThanOrEqual(0);
    const protectedCount = authors.filter((a) => a.protected).length;
    expect(protectedCount).toBeGreaterThan(0);
    expect(protectedCount).toBeLessThan(50);
    expect(authors.some((a) => a.name.includes('@everyone'))).toBe(true);
    expect(authors.some((a) => a.name.includes('@here'))).toBe(true);
    expect(authors.some((a) => /\p{Extended_Pictographic}/u.test(a.name))).toBe(true);
    expect(authors.some((a) => [...a.name].length >= 25)).toBe(true);
    expect(
      authors.some((a) => /[\u3041-\u30ff]/.test(a.name)) &&
        authors.some((a) => /^[A-Z][a-z]+ /.test(a.name)),
    ).toBe(true);
    const posts = generator.take(3000);
    const handles = new Set(authors.map((a) => a.handle));
    for (const p of posts) if (p.kind !== 'official') expect(handles.has(p.author.handle)).toBe(true);
    // Some people post a lot, most a little.
    const perAuthor = new Map<string, number>();
    for (const p of posts) perAuthor.set(p.author.handle, (perAuthor.get(p.author.handle) ?? 0) + 1);
    expect(Math.max(...perAuthor.values())).toBeGreaterThan(20);
    expect(createPostGenerator({ brands: [shiori], authors: 20 }).authors).toHaveLength(20);
  });

  it('keeps noise clean even when a brand name is an everyday word', () => {
    const brands: GeneratorBrand[] = [
      { names: ['ノート', 'note'] },
      { names: ['猫'] },
      { names: ['coffee'] },
    ];
    const posts = createPostGenerator({ seed: 1, brands, now }).take(3000);
    for (const post of posts.filter((p) => p.kind === 'noise' || p.kind === 'near-miss')) {
      for (const n of brands.flatMap((b) => b.names))
        expect(names(post.text, n), `${n} in ${post.text}`).toBe(false);
    }
    expect(count(posts, 'noise')).toBeGreaterThan(900);
  });
});

describe('runGenerator', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits about perMinute × minutes with jitter, then stops on abort', async () => {
    vi.useFakeTimers();
    const generator = createPostGenerator({ seed: 1, brands: [shiori] });
    const times: number[] = [];
    const controller = new AbortController();
    const done = runGenerator({
      generator,
      perMinute: 120,
      signal: controller.signal,
      emit: () => {
        times.push(Date.now());
      },
    });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(times.length).toBeGreaterThan(570);
    expect(times.length).toBeLessThan(630);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(new Set(gaps).size).toBeGreaterThan(50);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    controller.abort();
    await done;
    const after = times.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times.length).toBe(after);
  });

  it('keeps the rate at high speed, awaits emit, and bursts at start', async () => {
    vi.useFakeTimers();
    const generator = createPostGenerator({ seed: 1, brands: [shiori] });
    const controller = new AbortController();
    let emitted = 0;
    let inFlight = 0;
    let overlapped = false;
    const done = runGenerator({
      generator,
      perMinute: 60_000,
      burst: 25,
      signal: controller.signal,
      emit: async () => {
        inFlight++;
        if (inFlight > 1) overlapped = true;
        await Promise.resolve();
        inFlight--;
        emitted++;
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(emitted).toBeGreaterThanOrEqual(25);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(emitted).toBeGreaterThan(25 + 9_000);
    expect(emitted).toBeLessThan(25 + 11_000);
    expect(overlapped).toBe(false);
    controller.abort();
    await done;
  });

  it('returns at once when already aborted and rejects a bad rate', async () => {
    const generator = createPostGenerator({ brands: [shiori] });
    const emit = vi.fn();
    await runGenerator({ generator, perMinute: 10, emit, signal: AbortSignal.abort(), burst: 5 });
    expect(emit).not.toHaveBeenCalled();
    await expect(
      runGenerator({ generator, perMinute: 0, emit, signal: new AbortController().signal }),
    ).rejects.toThrow(/perMinute/);
  });
});
