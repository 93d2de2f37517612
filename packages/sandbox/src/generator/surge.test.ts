import {
  createSurgeDetector,
  loadConfig,
  normalizeText,
  type RulesEngine,
  type SurgeMatch,
  type SurgeVerdict,
} from '@kikimimi/rules';
import { describe, expect, it } from 'vitest';
import {
  createPostGenerator,
  type GeneratedPost,
  type GeneratorBrand,
  generateTraffic,
  mergeByTime,
} from './index.ts';

/* Issue 15: the outage burst and a day of normal traffic, through the real rules and the surge detector. */

const HOUR = 3_600_000;
const START = new Date('2026-02-02T00:00:00Z'); // a Monday, 09:00 in Japan

interface SizedBrand extends GeneratorBrand {
  readonly watch: string;
  /** Posts an hour on average: the brand's size. */
  readonly perHour: number;
}

const BRANDS: readonly SizedBrand[] = [
  { watch: 'big', names: ['ブクログ', 'booklog'], officialHandles: ['booklog_jp'], perHour: 3000 },
  {
    watch: 'mid',
    names: ['しおりノート', 'ｼｵﾘﾉｰﾄ', 'しおりnote', 'Shiori Note', 'shiorinote'],
    officialHandles: ['shiorinote_jp'],
    features: ['本棚', '同期', 'ログイン', 'bookshelf', 'sync'],
    perHour: 40,
  },
  { watch: 'small', names: ['つばめ会計', 'tsubame books'], officialHandles: ['tsubame_jp'], perHour: 2 },
];

function rulesEngine(): RulesEngine {
  const loaded = loadConfig({
    watches: BRANDS.map((b) => ({ id: b.watch, query: b.names.map((n) => `"${n}"`).join(' OR ') })),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.engine;
}

interface Labelled {
  readonly post: GeneratedPost;
  readonly match: SurgeMatch;
}

/** Each brand's own traffic (its own generator, its own size), all brands merged, decided by the rules. */
function trafficMatches(start: Date, hours: number, outage?: { brand: string; at: Date }): Labelled[] {
  const engine = rulesEngine();
  const streams = BRANDS.map((brand, i) =>
    generateTraffic({
      brands: [brand],
      seed: 100 + i,
      start,
      hours,
      perHour: brand.perHour,
      ...(outage?.brand === brand.watch ? { outages: [{ start: outage.at }] } : {}),
    }).map((post) => ({ post, stream: brand.watch })),
  );
  const all = streams.flat().sort((a, b) => a.post.createdAt.getTime() - b.post.createdAt.getTime());
  const out: Labelled[] = [];
  for (const { post, stream } of all) {
    const id = `${stream}-${post.ref}`;
    const decision = engine.decide(
      {
        platform: 'x',
        id,
        url: `https://x.com/${post.author.handle}/status/${id}`,
        author: {
          id: post.author.id,
          handle: post.author.handle,
          displayName: post.author.name,
          followers: post.author.followers,
          protected: post.author.protected,
        },
        text: post.text,
        lang: post.lang,
        createdAt: post.createdAt.toISOString(),
        repostOf: null,
        inReplyTo: null,
        conversationId: null,
        hashtags: [],
        mentions: [],
      },
      { now: post.createdAt },
    );
    if (!decision.matched) continue;
    out.push({
      post,
      match: {
        id,
        at: post.createdAt.getTime(),
        watchId: decision.watches[0] as string,
        intent: decision.intent,
        text: normalizeText(post.text),
        platform: 'x',
      },
    });
  }
  return out;
}

describe('outage burst', () => {
  const brand = BRANDS[1] as SizedBrand;
  const start = new Date('2026-02-03T03:00:00Z');
  const burst = createPostGenerator({ seed: 5, brands: [brand] }).outageBurst({ start });

  it('writes 1,000 posts about the brand in 2 minutes, in time order', () => {
    expect(burst).toHaveLength(1_000);
    const times = burst.map((p) => p.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(start.getTime());
    expect(Math.max(...times)).toBeLessThan(start.getTime() + 120_000);
    // Word spreads: the second minute is busier than the first.
    const firstMinute = times.filter((t) => t < start.getTime() + 60_000).length;
    expect(firstMinute).toBeLessThan(500);
    expect(firstMinute).toBeGreaterThan(200);
    const engine = rulesEngine();
    for (const post of burst) expect(engine.matchWatches({ ...asPost(post) }), post.text).toEqual(['mid']);
    expect(new Set(burst.map((p) => p.ref)).size).toBe(1_000);
    expect(
      burst.every((p) => p.scenario === 'outage' && p.kind === 'trouble' && p.brand === 'しおりノート'),
    ).toBe(true);
  });

  it('varies the wording of one complaint, in Japanese and English, with the usual noise', () => {
    const texts = new Set(burst.map((p) => p.text));
    expect(texts.size).toBeGreaterThan(600);
    // One complaint: can't log in / is it down (a few are misspelt beyond recognition, as people do).
    const complaint =
      /ログイン|ろぐいん|log ?in|sign in|入れな|落ち|down|繋がら|つながら|開け|開か|障害|outage|死んで|エラー/iu;
    expect(burst.filter((p) => complaint.test(p.text)).length).toBeGreaterThan(950);
    expect(burst.filter((p) => p.traits.includes('typo')).length).toBeGreaterThan(20);
    const japanese = burst.filter((p) => p.lang === 'ja').length;
    expect(japanese).toBeGreaterThan(550);
    expect(japanese).toBeLessThan(750);
    expect(burst.filter((p) => p.text.includes('?') || p.text.includes('？')).length).toBeGreaterThan(200);
    for (const trait of ['emoji', 'typo', 'reply', 'hashtag', 'url'] as const) {
      expect(burst.filter((p) => p.traits.includes(trait)).length, trait).toBeGreaterThan(10);
    }
    expect(new Set(burst.map((p) => p.author.handle)).size).toBeGreaterThan(300);
  });

  it('is the same for the same seed', () => {
    const again = createPostGenerator({ seed: 5, brands: [brand] }).outageBurst({ start });
    expect(JSON.stringify(again)).toBe(JSON.stringify(burst));
  });

  it('refuses what it cannot write, saying what', () => {
    const generator = createPostGenerator({ seed: 5, brands: [brand] });
    expect(() => generator.outageBurst({ start, brand: 'nobody' })).toThrow(/no brand named "nobody"/);
    expect(() => generator.outageBurst({ start, count: 0 })).toThrow(/count/);
    expect(() => generator.outageBurst({ start: new Date('x') })).toThrow(/start/);
  });
});

function asPost(post: GeneratedPost) {
  return {
    platform: 'x' as const,
    id: post.ref,
    url: `https://x.com/a/status/${post.ref}`,
    author: {
      id: post.author.id,
      handle: post.author.handle,
      displayName: '',
      followers: 0,
      protected: false,
    },
    text: post.text,
    lang: post.lang,
    createdAt: post.createdAt.toISOString(),
    repostOf: null,
    inReplyTo: null,
    conversationId: null,
    hashtags: [],
    mentions: [],
  };
}

describe('generateTraffic', () => {
  const day = generateTraffic({
    brands: [BRANDS[1] as SizedBrand],
    seed: 3,
    start: START,
    hours: 24,
    perHour: 100,
  });

  it('writes a day of posts by timestamps, at the asked rate, following the time of day', () => {
    expect(day.length).toBeGreaterThan(2_250);
    expect(day.length).toBeLessThan(2_550);
    const times = day.map((p) => p.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(START.getTime());
    expect(times.at(-1)).toBeLessThan(START.getTime() + 24 * HOUR);
    // In Japan (UTC+9): 21:00–22:00 is busy, 04:00–05:00 quiet.
    const inHour = (jst: number) =>
      times.filter((t) => Math.floor(((t + 9 * HOUR) % (24 * HOUR)) / HOUR) === jst).length;
    expect(inHour(21)).toBeGreaterThan(3 * inHour(4));
    expect(new Set(day.map((p) => p.ref)).size).toBe(day.length);
  });

  it('is the same for the same seed, and mixes outages in with unique refs', () => {
    const again = generateTraffic({
      brands: [BRANDS[1] as SizedBrand],
      seed: 3,
      start: START,
      hours: 24,
      perHour: 100,
    });
    expect(JSON.stringify(again)).toBe(JSON.stringify(day));
    const withOutage = generateTraffic({
      brands: [BRANDS[1] as SizedBrand],
      seed: 3,
      start: START,
      hours: 2,
      perHour: 100,
      outages: [{ start: new Date(START.getTime() + HOUR), count: 50 }],
    });
    expect(withOutage.filter((p) => p.scenario === 'outage')).toHaveLength(50);
    expect(new Set(withOutage.map((p) => p.ref)).size).toBe(withOutage.length);
    const times = withOutage.map((p) => p.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(() =>
      generateTraffic({ brands: [BRANDS[1] as SizedBrand], start: START, hours: 1, perHour: 0 }),
    ).toThrow(/perHour/);
  });

  it('merges streams in time order', () => {
    const a = day.slice(0, 10);
    const b = day.slice(10, 20);
    expect(mergeByTime(b, a).map((p) => p.ref)).toEqual(day.slice(0, 20).map((p) => p.ref));
  });
});

describe('surges over generated traffic (rules engine + surge detector)', () => {
  it('finds no surge in a day of normal traffic of a big, a mid-sized and a small brand', () => {
    const matches = trafficMatches(START, 24);
    const perWatch = Object.fromEntries(
      BRANDS.map((b) => [b.watch, matches.filter((m) => m.match.watchId === b.watch).length]),
    );
    // Sizes as intended: about 3,000, 40 and 2 posts an hour, most of which the watches match.
    expect(perWatch.big).toBeGreaterThan(24 * 1500);
    expect(perWatch.mid).toBeGreaterThan(24 * 20);
    expect(perWatch.small).toBeGreaterThan(15);
    const detector = createSurgeDetector();
    const surges = matches.map(({ match }) => detector.add(match)).filter((v) => v.kind !== 'ordinary');
    expect(surges).toEqual([]);
  });

  it.each(BRANDS.map((b) => b.watch))(
    'makes 1,000 posts in 2 minutes one surge for the %s brand within 60 s, and leaves ordinary matches ordinary',
    (watch) => {
      const burstStart = new Date(START.getTime() + 36 * HOUR); // Tuesday 21:00 in Japan: the busiest hour
      // Half a day of traffic before it (the detector learns the usual from it), two hours after.
      const matches = trafficMatches(new Date(START.getTime() + 24 * HOUR), 14, {
        brand: watch,
        at: burstStart,
      });
      const detector = createSurgeDetector();
      const verdicts = new Map<string, SurgeVerdict>();
      for (const { match } of matches) verdicts.set(match.id, detector.add(match));

      const burst = matches.filter((m) => m.post.scenario === 'outage');
      expect(burst).toHaveLength(1_000);
      const surges = new Set(
        [...verdicts.values()].flatMap((v) => (v.kind === 'ordinary' ? [] : [v.surge.id])),
      );
      expect(surges.size).toBe(1);

      const first = burst.find((m) => verdicts.get(m.match.id)?.kind === 'started');
      expect(first).toBeDefined();
      expect((first?.match.at ?? Number.POSITIVE_INFINITY) - burstStart.getTime()).toBeLessThan(60_000);

      // Burst posts that stay ordinary (each would be its own review) are few once the surge exists.
      const earlier = new Set(
        [...verdicts.values()].flatMap((v) => (v.kind === 'ordinary' ? [] : v.earlier)),
      );
      const alone = burst.filter(
        (m) => verdicts.get(m.match.id)?.kind === 'ordinary' && !earlier.has(m.match.id),
      );
      expect(alone.length).toBeLessThan(300);

      // During the burst, other watches' matches all stay ordinary; of the same watch, only posts of the
      // same complaint (generated normal posts say ログインできない too) may join.
      const during = matches.filter(
        (m) =>
          m.post.scenario === undefined &&
          m.match.at >= burstStart.getTime() &&
          m.match.at < burstStart.getTime() + 120_000,
      );
      expect(during.length).toBeGreaterThan(0);
      for (const m of during) {
        if (m.match.watchId !== watch) expect(verdicts.get(m.match.id)?.kind, m.post.text).toBe('ordinary');
      }
      const joined = during.filter(
        (m) => m.match.watchId === watch && verdicts.get(m.match.id)?.kind !== 'ordinary',
      );
      expect(joined.length).toBeLessThanOrEqual(3);
      if (process.env.SURGE_FIGURES)
        console.log(
          watch,
          'delay s',
          ((first?.match.at ?? 0) - burstStart.getTime()) / 1000,
          'alone',
          alone.length,
          'joined',
          joined.length,
          'during',
          during.length,
        );
    },
  );
});
