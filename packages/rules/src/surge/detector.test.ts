import { describe, expect, it } from 'vitest';
import type { Intent } from '../config.ts';
import { normalizeText } from '../normalize.ts';
import { baselineFrom, usualPerHour } from './baseline.ts';
import {
  createSurgeDetector,
  rebuildFrom,
  type SurgeDetector,
  type SurgeMatch,
  type SurgeVerdict,
} from './detector.ts';
import { signatureOf, similarity } from './signature.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
/** A Monday, 09:00 UTC. */
const T0 = Date.parse('2026-03-02T09:00:00Z');

/** mulberry32: the tests' own seeded randomness. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T };
}

// Everyday posts about a brand: many subjects, so near-duplicates are rare.
const SUBJECTS = [
  '本棚の並び替え',
  '読書メモの検索',
  'バーコード読み取り',
  '積読リストの共有',
  'レビューの文字数',
  '通知の設定',
  'ダークモードの色',
  '月額プランの料金',
  'ウィジェットの表示',
  'エクスポート機能',
  'the barcode scanner',
  'dark mode contrast',
  'the reading log export',
  'premium pricing',
];
const VERDICTS = [
  'が便利すぎる',
  'がちょっと分かりにくい',
  'いつの間にか変わってた',
  'もう少し改善してほしい',
  'についての質問です',
  ' is great',
  ' confuses me',
  ' could be better honestly',
];
const ENDINGS = ['', '！', '。', 'ｗ', ' 😊', '…', '?', ' lol'];

function everyday(brand: string, r: ReturnType<typeof random>): string {
  return `${brand}の${r.pick(SUBJECTS)}${r.pick(VERDICTS)}${r.pick(ENDINGS)}`;
}

// One complaint in varied wording: the outage.
const OUTAGE = [
  '{B}ログインできない',
  '{B}にログインできないんだけど',
  '{B}ログイン出来ない…',
  '{B}、さっきからログインできません',
  '{B}ログインできなくなった',
  'ログインできない、{B}',
  '{B}ログインできないの私だけ？',
];

function outage(brand: string, r: ReturnType<typeof random>): string {
  return `${r.pick(OUTAGE).replace('{B}', brand)}${r.pick(ENDINGS)}`;
}

let serial = 0;
function match(watchId: string, at: number, text: string, intent: Intent = 'trouble'): SurgeMatch {
  serial++;
  return {
    id: `m${serial}`,
    at,
    watchId,
    intent,
    text: normalizeText(text),
    platform: serial % 3 ? 'x' : 'mastodon',
  };
}

/** `count` matches spread evenly over `[from, from + span)`. */
function spread(count: number, from: number, span: number, make: (at: number, i: number) => SurgeMatch) {
  return Array.from({ length: count }, (_, i) => make(from + Math.floor((i * span) / count), i));
}

/** The order `rebuildFrom` replays stored matches in: by time, then id. */
function inStoredOrder(...lists: SurgeMatch[][]): SurgeMatch[] {
  return lists.flat().sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function byTime(...lists: SurgeMatch[][]): SurgeMatch[] {
  return lists.flat().sort((a, b) => a.at - b.at);
}

/** A detector's options as after `hours` of watching in which nothing was seen. */
const watchedFor = (hours: number) => ({
  baseline: { groups: new Map(), observedFromHour: Math.floor(T0 / HOUR) - hours },
});

/**
 * A detector that knows the watch's usual (60 everyday questions over half an hour) and has then seen
 * a minute of an outage's flood (200 posts): its surge open.
 */
function inFlood(seed: number) {
  const r = random(seed);
  const detector = createSurgeDetector(watchedFor(48));
  for (const m of spread(60, T0 - 30 * MIN, 30 * MIN, (at) =>
    match('w', at, everyday('しおりノート', r), 'question'),
  ))
    detector.add(m);
  for (const m of spread(200, T0, 60_000, (at) => match('w', at, outage('しおりノート', r)))) detector.add(m);
  return { r, detector };
}

const surgeIds = (verdicts: readonly SurgeVerdict[]) =>
  new Set(verdicts.flatMap((v) => (v.kind === 'ordinary' ? [] : [v.surge.id])));

describe('signatures', () => {
  it('find Japanese written without spaces near-identical, and different complaints not', () => {
    const sig = (text: string) => signatureOf(normalizeText(text)) as Uint32Array;
    const a = sig('しおりノートにログインできない😭 https://t.co/abc123');
    const b = sig('@friend しおりノート、ログインできないんだけど');
    const c = sig('しおりノートの本棚の並び替えが便利すぎる');
    expect(similarity(a, b)).toBeGreaterThanOrEqual(0.5);
    expect(similarity(a, c)).toBeLessThan(0.3);
  });

  it('do not compare texts with almost nothing to say', () => {
    expect(signatureOf(normalizeText('😭😭 https://t.co/abc'))).toBeUndefined();
    expect(signatureOf(normalizeText('は？'))).toBeUndefined();
  });
});

describe('surge detector', () => {
  it("makes a small brand's 20 near-identical complaints in 10 minutes a surge", () => {
    const r = random(1);
    const detector = createSurgeDetector();
    // A week of near-silence: two posts a day.
    const history = spread(14, T0 - 7 * 24 * HOUR, 7 * 24 * HOUR, (at) =>
      match('tsubame', at, everyday('つばめ会計', r)),
    );
    for (const m of history) expect(detector.add(m).kind).toBe('ordinary');

    const nearIdentical = [
      '{B}ログインできない',
      '{B}ログインできないんだけど',
      '{B}にログインできない',
      '{B}、ログインできない',
    ];
    const complaints = spread(20, T0, 10 * MIN, (at) =>
      match('tsubame', at, `${r.pick(nearIdentical).replace('{B}', 'つばめ会計')}${r.pick(ENDINGS)}`),
    );
    const verdicts = complaints.map((m) => detector.add(m));
    expect(verdicts.slice(0, 19).every((v) => v.kind === 'ordinary')).toBe(true);
    // From a quarter of the 20 on, the group is said to be forming (its reviews can wait for the surge).
    const forming = verdicts.map((v) => (v.kind === 'ordinary' ? (v.forming?.count ?? 0) : -1));
    expect(forming.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(forming.slice(4, 19)).toEqual(Array.from({ length: 15 }, (_, i) => i + 5));
    const last = verdicts[19];
    expect(last?.kind).toBe('started');
    if (last?.kind !== 'started') return;
    expect(last.surge.count).toBe(20);
    expect(last.surge.watchId).toBe('tsubame');
    expect([...last.earlier].sort()).toEqual(
      complaints
        .slice(0, 19)
        .map((m) => m.id)
        .sort(),
    );
    expect(last.surge.intents).toEqual({ trouble: 20 });
  });

  it("leaves a big brand's normal volume of the same complaint alone, and catches four times it", () => {
    // Usually 300 trouble matches an hour (50 in 10 minutes), every hour of the past four weeks.
    const rows = [];
    for (let h = 1; h <= 4 * 168; h++)
      rows.push({ watchId: 'big', intent: 'trouble' as const, hourStart: T0 - h * HOUR, count: 300 });
    const r = random(2);
    const normal = createSurgeDetector({ baseline: baselineFrom(rows, T0 - 4 * 168 * HOUR) });
    const usual = spread(50, T0, 10 * MIN, (at) => match('big', at, outage('ブクログ', r)));
    const usualVerdicts = usual.map((m) => normal.add(m));
    expect(usualVerdicts.map((v) => v.kind)).toEqual(usual.map(() => 'ordinary'));
    // Nor is a big brand's everyday complaint "forming": its reviews never wait.
    expect(usualVerdicts.filter((v) => v.kind === 'ordinary' && v.forming)).toEqual([]);

    // The same 50 for a brand that usually has none are a surge…
    const fresh = createSurgeDetector(watchedFor(48));
    expect(surgeIds(usual.map((m) => fresh.add({ ...m, watchId: 'new' })))).toHaveLength(1);

    // …and so is the big brand at six times its usual rate.
    const flood = spread(300, T0 + 10 * MIN, 10 * MIN, (at) => match('big', at, outage('ブクログ', r)));
    const verdicts = flood.map((m) => normal.add(m));
    expect(surgeIds(verdicts)).toHaveLength(1);
    // Later than over no usual traffic (the 20th): at 20 similar ones the rate is not yet four times
    // the usual.
    expect(verdicts.findIndex((v) => v.kind === 'started')).toBeGreaterThan(30);
  });

  it('makes a burst of 1,000 in 2 minutes one surge within seconds, and leaves other matches ordinary', () => {
    const r = random(3);
    // A day of ordinary traffic for two watches (about 20 an hour each).
    const day = spread(960, T0 - 24 * HOUR, 24 * HOUR, (at, i) =>
      match(
        i % 2 ? 'shiori' : 'other',
        at,
        everyday(i % 2 ? 'しおりノート' : 'ほかの店', r),
        r.pick(['praise', 'question', 'complaint', 'neutral'] as const),
      ),
    );
    const start = T0 + 30 * MIN;
    const burst = spread(1000, start, 2 * MIN, (at) => match('shiori', at, outage('しおりノート', r)));
    const during = spread(40, start - 5 * MIN, 10 * MIN, (at, i) =>
      match(i % 2 ? 'shiori' : 'other', at, everyday(i % 2 ? 'しおりノート' : 'ほかの店', r), 'question'),
    );
    const detector = createSurgeDetector();
    const burstIds = new Set(burst.map((m) => m.id));
    const verdicts = new Map<string, SurgeVerdict>();
    for (const m of byTime(day, burst, during)) verdicts.set(m.id, detector.add(m));

    const inBurst = burst.map((m) => verdicts.get(m.id) as SurgeVerdict);
    expect(surgeIds(inBurst)).toHaveLength(1);
    const started = burst.find((m) => verdicts.get(m.id)?.kind === 'started') as SurgeMatch;
    expect(started.at - start).toBeLessThan(60_000);
    // Everything said after the start is in it; what came before is handed over as earlier.
    const earlier = new Set(inBurst.flatMap((v) => (v.kind === 'ordinary' ? [] : v.earlier)));
    const leaked = burst.filter((m) => verdicts.get(m.id)?.kind === 'ordinary' && !earlier.has(m.id));
    expect(leaked.length).toBeLessThan(20);
    const [surge] = detector.openSurges();
    expect(surge?.count).toBe(1000 - leaked.length);
    expect(surge?.examples.length).toBeGreaterThan(0);
    expect(surge?.perMinute.reduce((sum, p) => sum + p.count, 0)).toBe(surge?.count);
    for (const m of during) expect(verdicts.get(m.id)?.kind, m.text).toBe('ordinary');
    // Ordinary traffic is never held back as "forming"; a burst's early matches are.
    // A day of ordinary traffic is never held back as "forming"; the burst's early matches are. (The
    // 40 "during" posts are themselves four times a quiet watch's usual rate, from 14 subjects: while the
    // watch is flooded, two of them resemble two others closely enough to wait.)
    const formingOf = (m: SurgeMatch) => (verdicts.get(m.id) as { forming?: unknown }).forming;
    for (const m of day) expect(formingOf(m), m.text).toBeUndefined();
    expect(during.filter(formingOf).length).toBeLessThanOrEqual(2);
    expect(inBurst.filter((v) => v.kind === 'ordinary' && v.forming).length).toBeGreaterThan(0);
    expect([...verdicts].filter(([id, v]) => !burstIds.has(id) && v.kind !== 'ordinary')).toEqual([]);
  });

  it("leaves a busy brand's first hour alone, and still catches an outage once a window was watched", () => {
    const r = random(9);
    // 3,600 matches an hour from the first minute of watching, 40 everyday texts said again and again
    // (a big brand's traffic repeats itself): nothing about it is unusual, though nothing is known yet.
    const phrases = Array.from({ length: 40 }, () => everyday('しおりノート', r));
    const busy = spread(5_400, T0, 90 * MIN, (at, i) =>
      match('big', at, r.pick(phrases), i % 2 ? 'complaint' : 'question'),
    );
    const detector = createSurgeDetector();
    const verdicts = busy.map((m) => detector.add(m));
    expect(verdicts.filter((v) => v.kind !== 'ordinary')).toEqual([]);
    expect(verdicts.filter((v) => v.kind === 'ordinary' && v.forming).length).toBe(0);

    // The same brand's outage 20 minutes after watching began: one surge within a minute, while the
    // first hour is still being watched.
    const first = createSurgeDetector();
    const start = T0 + 20 * MIN;
    const burst = spread(1_000, start, 2 * MIN, (at) => match('big', at, outage('しおりノート', r)));
    const all = byTime(
      busy.filter((m) => m.at < T0 + 40 * MIN),
      burst,
    );
    const results = new Map(all.map((m) => [m.id, first.add(m)] as const));
    const inBurst = burst.map((m) => results.get(m.id) as SurgeVerdict);
    expect(surgeIds(inBurst)).toHaveLength(1);
    const started = burst.find((m) => results.get(m.id)?.kind === 'started') as SurgeMatch;
    expect(started.at - start).toBeLessThan(MIN);
    expect(inBurst.filter((v) => v.kind === 'ordinary' && v.forming).length).toBeGreaterThan(0);
    expect(busy.filter((m) => m.at < T0 + 40 * MIN && results.get(m.id)?.kind !== 'ordinary')).toEqual([]);
  });

  it('starts a surge said in many wordings once its intent is flooded, and never holds everyday wordings', () => {
    const r = random(11);
    // Usually 60 trouble and 120 question matches an hour, every hour of the past two days.
    const rows = [];
    for (let h = 1; h <= 48; h++) {
      rows.push({ watchId: 'w', intent: 'trouble' as const, hourStart: T0 - h * HOUR, count: 60 });
      rows.push({ watchId: 'w', intent: 'question' as const, hourStart: T0 - h * HOUR, count: 120 });
    }
    const detector = createSurgeDetector({ baseline: baselineFrom(rows, T0 - 48 * HOUR) });
    // Everyday questions in ten wordings said again and again, two a minute.
    const phrases = Array.from({ length: 10 }, () => everyday('しおりノート', r));
    const everydayQuestions = spread(60, T0, 30 * MIN, (at) => match('w', at, r.pick(phrases), 'question'));
    // The outage in seven wordings: 200 in two minutes, no wording near 20 of its own for a while.
    const burst = spread(200, T0 + 10 * MIN, 2 * MIN, (at) => match('w', at, outage('しおりノート', r)));
    const verdicts = new Map(byTime(everydayQuestions, burst).map((m) => [m.id, detector.add(m)] as const));
    const inBurst = burst.map((m) => verdicts.get(m.id) as SurgeVerdict);
    expect(surgeIds(inBurst)).toHaveLength(1);
    // Without the flooded intent it would wait for one wording's 20th match (the 60th or so).
    expect(inBurst.findIndex((v) => v.kind === 'started')).toBeLessThan(40);
    expect(inBurst.filter((v) => v.kind !== 'ordinary').length).toBeGreaterThan(150);
    for (const m of everydayQuestions) {
      const v = verdicts.get(m.id);
      expect(v?.kind, m.text).toBe('ordinary');
      expect(v?.kind === 'ordinary' && v.forming, m.text).toBeFalsy();
    }
  });

  it("takes in an outage's posts in wordings of their own while it lasts, and no everyday ones", () => {
    const r = random(12);
    // People say an outage a hundred ways: few of them near-identical to another.
    const openers = ['', '', 'え、', 'ねえ ', 'は？', '朝から', 'さっきから', '今日も', '急に', 'また'];
    const cores = [
      'ログインできない',
      'ログイン出来ないんだけど',
      'にログインできなくなった',
      '落ちてる？',
      '繋がらない',
      '開かない',
      'サーバーエラーになる',
      '障害？',
      'エラーでログインできない',
      'ずっとログイン画面',
    ];
    const closers = [
      '',
      '',
      '…',
      '泣',
      '困る',
      '仕事にならん',
      '私だけ？',
      'みんなは？',
      '早く直して',
      'つらい',
    ];
    const english = [
      "can't log in to {B}",
      '{B} is down again',
      'is {B} down? login fails',
      '{B} login keeps failing',
      '{B} stuck on the login screen',
      'anyone else unable to log into {B}',
    ];
    const englishClosers = ['', ' pls fix', ' this is so frustrating', ' ffs', ' i have a deadline', ' help'];
    const said = () =>
      r.next() < 0.3
        ? `${r.pick(english).replace('{B}', 'Shiori Note')}${r.pick(englishClosers)}${r.pick(ENDINGS)}`
        : `${r.pick(openers)}しおりノート${r.pick(cores)}${r.pick(closers)}${r.pick(ENDINGS)}`;
    const day = spread(2_880, T0 - 24 * HOUR, 24 * HOUR, (at) =>
      match(
        'w',
        at,
        everyday('しおりノート', r),
        r.pick(['praise', 'question', 'complaint', 'trouble'] as const),
      ),
    );
    const during = spread(40, T0, 10 * MIN, (at) =>
      match(
        'w',
        at,
        everyday('しおりノート', r),
        r.pick(['praise', 'question', 'complaint', 'trouble'] as const),
      ),
    );
    const burst = spread(600, T0 + 2 * MIN, 3 * MIN, (at) => match('w', at, said()));
    const detector = createSurgeDetector();
    const verdicts = new Map<string, SurgeVerdict>();
    for (const m of byTime(day, during, burst)) verdicts.set(m.id, detector.add(m));
    const joined = new Set<string>();
    for (const v of verdicts.values()) {
      if (v.kind === 'ordinary') continue;
      for (const id of v.earlier) joined.add(id);
    }
    const inSurge = (m: SurgeMatch) => verdicts.get(m.id)?.kind !== 'ordinary' || joined.has(m.id);
    expect(surgeIds([...verdicts.values()])).toHaveLength(1);
    // Nearly every outage post ends up in it, most of those in a wording of their own too…
    // (43 without taking in those like none of its groups: 13 with.)
    expect(burst.filter((m) => !inSurge(m)).length).toBeLessThanOrEqual(20);
    // …and no everyday post, though they mention the same brand during the flood.
    expect(during.filter(inSurge).map((m) => m.text)).toEqual([]);
  });

  it("says how much a match resembles its watch's open surge, without learning from it", () => {
    const r = random(21);
    const day = spread(2_880, T0 - 24 * HOUR, 24 * HOUR, (at) =>
      match('w', at, everyday('しおりノート', r), r.pick(['praise', 'question', 'complaint'] as const)),
    );
    const burst = spread(300, T0 + 2 * MIN, 2 * MIN, (at) => match('w', at, outage('しおりノート', r)));
    const detector = createSurgeDetector();
    for (const m of day) detector.add(m);
    const outageWorded = {
      watchId: 'w',
      text: normalizeText('しおりノートずっとログインできないんだが？？'),
    };
    const everydayWorded = {
      watchId: 'w',
      text: normalizeText('しおりノートのバーコード読み取りが便利すぎる'),
    };
    // No surge open in the watch (nor any in another watch): nothing to resemble.
    expect(detector.resemblance(outageWorded)).toBeNull();
    for (const m of burst) detector.add(m);
    expect(detector.openSurges()).toHaveLength(1);
    expect(detector.resemblance({ watchId: 'other', text: outageWorded.text })).toBeNull();
    const alike = detector.resemblance(outageWorded) as number;
    const unlike = detector.resemblance(everydayWorded) as number;
    // The outage's words in a wording of its own: more typical of the surge than of the usual; an
    // everyday post: less.
    expect(alike).toBeGreaterThan(0);
    expect(unlike).toBeLessThan(0);
    // Asking learns nothing: the same answers again, and the surge is as it was.
    const before = detector.openSurges();
    expect(detector.resemblance(outageWorded)).toBe(alike);
    expect(detector.resemblance(everydayWorded)).toBe(unlike);
    expect(detector.openSurges()).toEqual(before);
  });

  it("holds a flood's matches back while its surge forms, and few of the everyday ones", () => {
    const r = random(13);
    // A big brand: 800 trouble matches an hour (about 13 a minute), 400 each of questions and praise.
    const rows = [];
    for (let h = 1; h <= 48; h++)
      for (const [intent, count] of [
        ['trouble', 800],
        ['question', 400],
        ['praise', 400],
      ] as const)
        rows.push({ watchId: 'w', intent, hourStart: T0 - h * HOUR, count });
    const detector = createSurgeDetector({ baseline: baselineFrom(rows, T0 - 48 * HOUR) });
    const cores = ['ログインできない', '落ちてる', '繋がらない', '開かない', 'サーバーエラー', '障害？'];
    const openers = ['', 'え、', 'ねえ ', '朝から', 'さっきから', '急に', 'また', 'なんで'];
    const burst = spread(1_000, T0 + 5 * MIN + 20_000, 2 * MIN, (at) =>
      match('w', at, `${r.pick(openers)}しおりノート${r.pick(cores)}${r.pick(ENDINGS)}`),
    );
    // Everyday posts, troubles among them (about everything but signing in).
    const everydayPosts = spread(400, T0, 15 * MIN, (at, i) =>
      i % 2 === 0
        ? match(
            'w',
            at,
            `しおりノートの${r.pick(SUBJECTS)}が${r.pick(['動かない', '反映されない', '消えた'])}${r.pick(ENDINGS)}`,
          )
        : match('w', at, everyday('しおりノート', r), i % 4 === 1 ? 'question' : 'praise'),
    );
    const verdicts = new Map(byTime(everydayPosts, burst).map((m) => [m.id, detector.add(m)] as const));
    const started = burst.findIndex((m) => verdicts.get(m.id)?.kind === 'started');
    // Seen in its first seconds (400 in two minutes against two trouble matches a minute)…
    expect(burst[started]?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(T0 + 5 * MIN + 30_000);
    // …and of the flood's matches before and around it, few go for a review of their own at once.
    const atOnce = burst.filter((m) => {
      const v = verdicts.get(m.id);
      return v?.kind === 'ordinary' && v.forming === undefined;
    });
    // (65 without holding them while the surge forms: 33 with.)
    expect(atOnce.length).toBeLessThanOrEqual(40);
    // Those held only because their intent is flooded say so: their wait can be short.
    const floodOnly = burst.filter((m) => {
      const v = verdicts.get(m.id);
      return v?.kind === 'ordinary' && v.forming?.flood === true;
    });
    expect(floodOnly.length).toBeGreaterThan(0);
    const everydayHeld = everydayPosts.filter((m) => {
      const v = verdicts.get(m.id);
      return !(v?.kind === 'ordinary' && v.forming === undefined);
    });
    // The everyday posts' own wordings never join it; a few troubles said while it formed wait (12).
    expect(everydayPosts.filter((m) => verdicts.get(m.id)?.kind !== 'ordinary')).toEqual([]);
    expect(everydayHeld.length).toBeLessThanOrEqual(16);
  });

  it("starts a surge in a flood's first seconds: minCount within ten seconds and three alike, not half of it", () => {
    // Twenty of one intent in words of their own but three, which say the same.
    const own = [
      'しおりノートが開かない、ずっと読み込み中',
      'shiori note will not open on my phone',
      'しおりノートの本棚が真っ白で何も出ない',
      'ｼｵﾘﾉｰﾄでエラーコード500って出る',
      'Shiori Note sync keeps failing this morning',
      'しおりノートにサインインしようとすると弾かれる',
      'しおりnote アプリが落ちて起動しない',
      'my reading log in shiorinote is gone??',
      'しおりノート、検索結果がいつまでも空っぽ',
      'cannot scan barcodes with shiori note since 9am',
      'しおりノートのメモ保存で失敗しましたと表示',
      'shiorinote keeps logging me out every minute',
      'ｼｵﾘﾉｰﾄ通知が一件も来なくなった',
      'Is shiorinote broken for everyone or just me',
      'しおりノートで家族共有の招待が送れない',
      'shiori note password reset email never arrives',
      'しおりnoteの積読リストが表示されないんだけど',
    ];
    const alike = [
      'しおりノートが落ちてる？サーバーエラー',
      'しおりノート落ちてる?サーバーエラー！',
      'しおりノートが落ちてる？サーバーエラーだって',
    ];
    const texts = [...own, ...alike];
    const run = (count: number, stepMs: number) => {
      const detector = createSurgeDetector(watchedFor(48));
      return texts
        .slice(texts.length - count)
        .map((text, i) => detector.add(match('w', T0 + i * stepMs, text)));
    };
    // Twenty within ten seconds: the twentieth starts it (the intent is flooded: minCount within ten
    // seconds, and far more than its usual).
    const flood = run(20, 500);
    expect(flood.slice(0, 19).every((v) => v.kind === 'ordinary')).toBe(true);
    expect(flood[19]?.kind).toBe('started');
    // Ten within nine seconds, three of them alike: a clump everyday traffic has too — held as a
    // flood's likely start, not a surge.
    const clump = run(10, 1_000);
    expect(clump.every((v) => v.kind === 'ordinary')).toBe(true);
    expect(clump[9]).toMatchObject({ forming: {} });
  });

  it('sees a flood in its first ten seconds, even late in a minute, and holds what follows', () => {
    const r = random(17);
    // 800 trouble matches an hour usually: about 13 a minute, two in ten seconds.
    const rows = [];
    for (let h = 1; h <= 48; h++)
      rows.push({ watchId: 'w', intent: 'trouble' as const, hourStart: T0 - h * HOUR, count: 800 });
    const detector = createSurgeDetector({ baseline: baselineFrom(rows, T0 - 48 * HOUR) });
    const everydayPosts = spread(65, T0, 5 * MIN, (at) =>
      match(
        'w',
        at,
        `しおりノートの${r.pick(SUBJECTS)}が${r.pick(['動かない', '反映されない', '消えた'])}${r.pick(ENDINGS)}`,
      ),
    );
    // 40 posts in the last ten seconds of a minute: this minute so far (13 + 40 against 3 × 13 × 5/6)
    // and the last two minutes (3 × 26) are not yet a flood when its first 20 are in.
    const burst = spread(40, T0 + 5 * MIN + 50_000, 10_000, (at) =>
      match('w', at, outage('しおりノート', r)),
    );
    const verdicts = new Map(byTime(everydayPosts, burst).map((m) => [m.id, detector.add(m)] as const));
    const sentAtOnce = (m: SurgeMatch) => {
      const v = verdicts.get(m.id);
      return v?.kind === 'ordinary' && v.forming === undefined;
    };
    expect(everydayPosts.filter((m) => !sentAtOnce(m))).toEqual([]);
    // The first 20 within ten seconds are a flood: from then on none goes for a review of its own at
    // once (all 40 would without the ten-second count).
    expect(burst.slice(20).filter(sentAtOnce)).toEqual([]);
    expect(burst.slice(0, 19).filter(sentAtOnce).length).toBeGreaterThan(0);
  });

  it('takes a held match in when asked again, once, if it says what the members say', () => {
    const { r, detector } = inFlood(14);
    const [before] = detector.openSurges();
    expect(before?.count).toBeGreaterThan(100);
    // Held while the surge formed (here: its verdict is not what is asked about), its hold now over.
    const held = match('w', T0 + 10_000, 'ねえ、しおりノートさっきからずっとログインできない、落ちてる？');
    expect(detector.reconsider(held).kind).toBe('joined');
    expect(detector.openSurges()[0]?.count).toBe((before?.count ?? 0) + 1);
    // Asked twice, it joins once; an everyday question does not join.
    expect(detector.reconsider(held).kind).toBe('ordinary');
    const question = match('w', T0 + 11_000, everyday('しおりノート', r), 'question');
    expect(detector.reconsider(question).kind).toBe('ordinary');
    expect(detector.openSurges()[0]?.count).toBe((before?.count ?? 0) + 1);
    // After the flood (and so after the surge's window) nothing is taken in.
    const late = match('w', T0 + 20 * MIN, 'しおりノートさっきからずっとログインできない');
    detector.add(match('w', T0 + 20 * MIN, everyday('しおりノート', r), 'question'));
    expect(detector.reconsider(late).kind).toBe('ordinary');
  });

  it('says, when asked again, whether a group of near-duplicates is now forming around a match', () => {
    const { r, detector } = inFlood(15);
    expect(detector.openSurges()[0]?.count).toBeGreaterThan(100);
    // During the flood, a trouble post in words that are not the surge's: alone so far.
    const pdf = (at: number, ending: string) =>
      match('w', at, `しおりノートでPDFの書き出しが途中で止まる${ending}`);
    const first = pdf(T0 + 61_000, '');
    expect(detector.add(first)).toMatchObject({ kind: 'ordinary' });
    const alone = detector.reconsider(first);
    expect(alone.kind).toBe('ordinary');
    expect(alone.kind === 'ordinary' && alone.forming).toBeFalsy();
    // Two near-duplicates of it within seconds: its group is coming fast now. Not taken in (its words
    // are not the surge's), but said to be forming.
    detector.add(pdf(T0 + 62_000, '…'));
    detector.add(pdf(T0 + 63_000, '！'));
    const again = detector.reconsider(first);
    expect(again.kind).toBe('ordinary');
    expect(again.kind === 'ordinary' && again.forming?.count).toBeGreaterThanOrEqual(3);
    // An everyday question with no near-duplicates is not.
    const question = match('w', T0 + 64_000, everyday('しおりノート', r), 'question');
    detector.add(question);
    const asked = detector.reconsider(question);
    expect(asked.kind === 'ordinary' && asked.forming).toBeFalsy();
  });

  it('says nothing is a surge before a window was watched', () => {
    const r = random(10);
    const complaints = (from: number) =>
      spread(50, from, 5 * MIN, (at) => match('w', at, outage('つばめ会計', r)));
    // 50 complaints in the first 5 minutes of watching: nothing to compare them with.
    const detector = createSurgeDetector();
    expect(surgeIds(complaints(T0).map((m) => detector.add(m)))).toHaveLength(0);
    // The same 50 after a quiet window (one unrelated match, then 10 minutes of nothing): a surge.
    const later = createSurgeDetector();
    later.add(match('w', T0, everyday('つばめ会計', r), 'praise'));
    expect(surgeIds(complaints(T0 + 11 * MIN).map((m) => later.add(m)))).toHaveLength(1);
  });

  it('closes a surge after the quiet period, and when a reviewer closes it', () => {
    const r = random(4);
    const detector = createSurgeDetector({ config: { quietMinutes: 30 }, ...watchedFor(48) });
    const burst = spread(100, T0, 2 * MIN, (at) => match('w', at, outage('しおりノート', r)));
    for (const m of burst) detector.add(m);
    const [surge] = detector.openSurges();
    expect(surge?.count).toBeGreaterThan(90);
    expect(detector.closeQuiet(T0 + 20 * MIN)).toEqual([]);
    const closed = detector.closeQuiet(T0 + 2 * MIN + 31 * MIN);
    expect(closed).toMatchObject([{ status: 'closed', closedBy: 'quiet', count: surge?.count }]);
    expect(detector.openSurges()).toEqual([]);

    const again = spread(100, T0 + HOUR, 2 * MIN, (at) => match('w', at, outage('しおりノート', r)));
    for (const m of again) detector.add(m);
    const [open] = detector.openSurges();
    expect(detector.close(open?.id ?? '', T0 + HOUR + 3 * MIN)).toMatchObject({ closedBy: 'reviewer' });
    expect(detector.close(open?.id ?? '', T0 + HOUR + 3 * MIN)).toBeUndefined();
    // Judged afresh: the next similar match starts no surge on its own.
    expect(detector.add(match('w', T0 + HOUR + 4 * MIN, outage('しおりノート', r))).kind).toBe('ordinary');
    // …and, for a window after the reviewer's close, none is held back as a surge forming either.
    const later = spread(10, T0 + HOUR + 4 * MIN + 1, 2 * MIN, (at) =>
      match('w', at, outage('しおりノート', r)),
    );
    const verdicts = later.map((m) => detector.add(m));
    expect(verdicts.map((v) => v.kind === 'ordinary' && v.forming !== undefined)).toEqual(
      later.map(() => false),
    );
    // The state carries it: a detector continued from JSON does the same.
    const copy = createSurgeDetector({ config: { quietMinutes: 30 }, state: detector.toJSON() });
    const next = copy.add(match('w', T0 + HOUR + 7 * MIN, outage('しおりノート', r)));
    expect(next.kind === 'ordinary' && next.forming).toBeFalsy();
  });

  it('does nothing when disabled', () => {
    const r = random(5);
    const detector = createSurgeDetector({ config: { enabled: false } });
    const burst = spread(200, T0, 2 * MIN, (at) => match('w', at, outage('しおりノート', r)));
    expect(surgeIds(burst.map((m) => detector.add(m)))).toHaveLength(0);
  });

  it('continues from its JSON state exactly as if it had never stopped', () => {
    const r = random(6);
    const stream = inStoredOrder(
      spread(600, T0 - 10 * HOUR, 10 * HOUR, (at, i) =>
        match(`w${i % 3}`, at, everyday('しおりノート', r), 'question'),
      ),
      spread(300, T0 - 5 * MIN, 3 * MIN, (at) => match('w1', at, outage('しおりノート', r))),
      spread(50, T0, 10 * MIN, (at) => match('w2', at, everyday('しおりノート', r))),
    );
    const whole = createSurgeDetector();
    const wholeVerdicts = stream.map((m) => whole.add(m));

    let detector: SurgeDetector = createSurgeDetector();
    const verdicts: SurgeVerdict[] = [];
    stream.forEach((m, i) => {
      if (i % 97 === 0)
        detector = createSurgeDetector({ state: JSON.parse(JSON.stringify(detector.toJSON())) });
      verdicts.push(detector.add(m));
    });
    const firstDifference = verdicts.findIndex(
      (v, i) => JSON.stringify(v) !== JSON.stringify(wholeVerdicts[i]),
    );
    expect(firstDifference).toBe(-1);
    expect(surgeIds(verdicts)).toHaveLength(1);
    expect(JSON.stringify(detector.toJSON())).toBe(JSON.stringify(whole.toJSON()));

    // Rebuilt from the stored matches (in any order): the same state.
    expect(JSON.stringify(rebuildFrom([...stream].reverse()).toJSON())).toBe(JSON.stringify(whole.toJSON()));
  });

  it('refuses a state it does not know and a match without what it needs, saying which', () => {
    expect(() => createSurgeDetector({ state: { version: 2 } as never })).toThrow(/expected version 1/);
    expect(() => createSurgeDetector({ config: { minCount: 0 } })).toThrow(/surges\.minCount/);
    const detector = createSurgeDetector();
    expect(() => detector.add({ ...match('w', T0, 'x'), at: Number.NaN })).toThrow(
      /"m\d+" has no valid time/,
    );
    expect(() => detector.add({ ...match('w', T0, 'x'), intent: 'angry' as Intent })).toThrow(
      /unknown intent "angry"/,
    );
  });

  it('keeps its memory bounded: near-duplicate groups expire after the window and stop at the cap', () => {
    const r = random(7);
    // Unrelated texts: random kana.
    const gibberish = () =>
      Array.from({ length: 12 }, () => String.fromCharCode(0x3042 + Math.floor(r.next() * 80))).join('');
    const detector = createSurgeDetector({ maxClusters: 500 });
    for (let i = 0; i < 2000; i++) detector.add(match('w', T0 + i * 100, gibberish(), 'question'));
    expect(detector.clusterCount()).toBeLessThanOrEqual(501);
    detector.add(match('w', T0 + 2 * HOUR, 'まったく別の話題の投稿です'));
    expect(detector.clusterCount()).toBe(1);
  });
});

describe('baseline', () => {
  it("is the same hour's median over past weeks, or the last day's mean when that is higher", () => {
    const hour = Math.floor(T0 / HOUR);
    const rows = [10, 100, 12].map((count, k) => ({
      watchId: 'w',
      intent: 'complaint' as const,
      hourStart: T0 - (k + 1) * 168 * HOUR,
      count,
    }));
    const baseline = baselineFrom(rows, T0 - 4 * 168 * HOUR);
    // Weeks 1–3 hold 10, 100 and 12; week 4 was watched and quiet: median of 0, 10, 12, 100.
    expect(usualPerHour(baseline, 'w\u0000complaint', hour, 4)).toBe(11);
    expect(usualPerHour(baseline, 'w\u0000complaint', hour, 3)).toBe(12);
    // The last 24 hours averaging 48 an hour win over a quiet week.
    const busy = baselineFrom(
      [...rows, { watchId: 'w', intent: 'complaint', hourStart: T0 - HOUR, count: 24 * 48 }],
      T0 - 4 * 168 * HOUR,
    );
    expect(usualPerHour(busy, 'w\u0000complaint', hour, 4)).toBe(48);
    // Weeks before watching began are unknown, not quiet.
    expect(usualPerHour(baselineFrom(rows, T0 - 24 * HOUR), 'w\u0000complaint', hour, 4)).toBe(0);
  });

  it('refuses bad rows, naming them', () => {
    expect(() => baselineFrom([{ watchId: 'w', intent: 'praise', hourStart: 'soon', count: 1 }], T0)).toThrow(
      /rows\[0\]\.hourStart/,
    );
    expect(() => baselineFrom([{ watchId: 'w', intent: 'praise', hourStart: T0, count: -1 }], T0)).toThrow(
      /rows\[0\]\.count/,
    );
  });
});
