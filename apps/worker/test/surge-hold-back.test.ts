import type { Post } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceFor } from '../src/discord/notifier.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { FLOOD_HOLD_MS, rebuildSurgeRunner, type SurgeRunner } from '../src/pipeline/surge.ts';
import { HOLDING_CONFIG, ingestDeps, storeHistory, watchingSince, xPost } from './surge-scenario.ts';
import { createTestWorld, type TestWorld } from './world.ts';

/**
 * The surge runner (detector and PostgreSQL, on a clock of its own) with a flood whose first posts were
 * handed on for review messages of their own before it could be told from the usual: once it is, they
 * wait like the ones after them (held back, asked again), and once the surge has `minCount` members
 * every match held only for the flood is asked at once: joined, or reviewed now.
 */
let world: TestWorld;
let runner: SurgeRunner | null = null;
let clock = Date.now();
const atOnce: string[] = [];
const delayed: string[] = [];
const released: string[] = [];
/** Handed on at once or released as resembling the open surge (`alike`). */
const alike: string[] = [];
const reconsiders: string[][] = [];
/** Matches whose review message the runner asked to edit (a `refresh` job). */
const refreshed: string[] = [];

const OPENERS = ['', 'え、', 'ねえ ', '朝から', 'さっきから', '急に', 'また'];
const ENDINGS = ['', '…', '！', 'ｗ', '??', ' 困る', ' 最悪'];
let serial = 0;
/** The outage's first posts, each in words of its own (no near-duplicate group forms among them). */
const FIRST = [
  'しおりノートにログインできない',
  'ｼｵﾘﾉｰﾄ開けないんだけど、ずっとエラー',
  'shiori note login fails every time',
  'しおりノートのアプリが起動しない',
  'Shiori Note is not loading at all for me',
  'しおりノートで同期エラーが出て進まない',
  'しおりnote 読み込みが終わらない助けて',
];
/** Five more, in words of their own too: the flood is seen (half of `minCount` in ten seconds), no group forms. */
const MORE = [
  'しおりノートが真っ白な画面のまま動かない',
  'shiori note app crashes right after the splash screen',
  'しおりノート、サーバーエラーって出て本棚が表示されない',
  'getting a server error on Shiori Note every single time',
  'しおりノートの読み込みがぐるぐるしたまま終わらない',
];
const outagePost = (at: number, text?: string): Post => {
  serial++;
  return xPost(
    7_000_000 + serial,
    text ??
      `${OPENERS[serial % OPENERS.length]}しおりノート ログインできない${ENDINGS[(serial * 3) % ENDINGS.length]}`,
    at,
  );
};

beforeAll(async () => {
  world = await createTestWorld({ config: HOLDING_CONFIG });
  await watchingSince(world);
  // A quarter of an hour of the watch's everyday traffic: the words the surge's are told apart from.
  await storeHistory(world, 0.25, 0.2);
}, 60_000);
afterAll(async () => {
  await world?.close();
});

describe("a flood's first posts", () => {
  it('are held back once it is seen, and asked as soon as the surge can tell', async () => {
    const deps = ingestDeps(
      world,
      {
        notifyMany: async (ids, options) => {
          (options?.delayMs ? delayed : atOnce).push(...ids);
          if (options?.alike) alike.push(...ids);
        },
        release: async (ids, options) => {
          released.push(...ids);
          if (options?.alike) alike.push(...ids);
        },
        review: async (ids) => {
          if (ids.length === 0) return;
          await world.repos.surges.markPending(ids);
          await runner?.handle({ matchIds: [...ids] });
        },
      },
      () => new Date(clock),
    );
    runner = await rebuildSurgeRunner(deps, {
      enqueue: (async (name: string, payload: object) => {
        if (name === 'surge' && 'reconsiderIds' in payload)
          reconsiders.push([...(payload.reconsiderIds as string[])]);
        if (name === 'refresh') refreshed.push((payload as { matchId: string }).matchId);
        return {};
      }) as never,
    });
    const page = async (count: number, spacingMs: number, texts: readonly string[] = []) => {
      const posts = Array.from({ length: count }, (_, i) => {
        clock += spacingMs;
        return outagePost(clock, texts[i]);
      });
      await ingestPosts({ accountId: world.accounts.x, posts }, deps);
    };
    // Seven of the outage's first posts: too few to be told from the usual, each reviewed at once.
    await page(7, 300, FIRST);
    const first = [...atOnce];
    expect(first).toHaveLength(7);
    for (const id of first) expect(await world.repos.surges.heldUntil(id)).toBeNull();
    // Their review messages went out. (One whose message is still on its way is not edited: its sender
    // shows the change when it stores the message's id — notifier, review-claim.test.)
    for (const [i, id] of first.entries()) {
      await world.repos.reviews.claimMessage(id, '555000', nonceFor(id));
      await world.repos.reviews.setMessageId(id, String(880_000 + i));
    }
    // Five more within the ten seconds: its flood is seen (no surge yet: no group of near-duplicates
    // has formed); the first seven, handed on a moment ago, wait too (their notify job reads the time)
    // and are asked again before it ends.
    const handedAt = clock;
    await page(5, 300, MORE);
    expect(await world.repos.surges.list()).toEqual([]);
    expect(delayed.length).toBeGreaterThan(0);
    for (const id of first)
      expect(await world.repos.surges.heldUntil(id)).toEqual(new Date(handedAt + FLOOD_HOLD_MS));
    // (Any of the five handed on before its flood was seen: the same.)
    for (const id of atOnce)
      expect((await world.repos.surges.heldUntil(id))?.getTime()).toBeGreaterThan(clock);
    expect(reconsiders.some((ids) => first.every((id) => ids.includes(id)))).toBe(true);
    expect(released).toEqual([]);
    // The flood goes on until its surge has minCount members: then everything held for the flood is
    // asked at once — taken in, or released to be reviewed now (its hold ended).
    for (let i = 0; i < 10 && (await world.repos.surges.list()).every((s) => s.count < 20); i++)
      await page(5, 300);
    const [surge] = await world.repos.surges.list();
    expect(surge?.count).toBeGreaterThanOrEqual(20);
    const matches = await world.repos.surges.history(new Date(0), first);
    for (const match of matches) {
      if (match.surgeId !== null) continue;
      expect(released).toContain(match.id);
      // Its hold ended at the release (and stays on record: the notifier reviews it in the surge's thread).
      expect(await world.repos.surges.heldUntil(match.id)).toEqual(new Date(clock));
    }
    // Each of them is a member or was released (one released may still join later: its message is
    // then edited to say so); none released twice.
    const members = new Set(matches.filter((m) => m.surgeId !== null).map((m) => m.id));
    // Those of them whose message went out are edited to say they joined (a refresh job each), once.
    const joinedWithMessage = first.filter((id) => members.has(id));
    expect(joinedWithMessage.length).toBeGreaterThan(0);
    expect(refreshed.filter((id) => first.includes(id)).sort()).toEqual(joinedWithMessage.sort());
    expect(first.filter((id) => !members.has(id) && !released.includes(id))).toEqual([]);
    expect(new Set(released).size).toBe(released.length);
    // The jobs at the end of their holds (queued when they were held) ask about them again, and let
    // none of them go a second time.
    for (const ids of reconsiders.filter((job) => job.some((id) => first.includes(id))))
      await runner?.handle({ reconsiderIds: ids });
    expect(new Set(released).size).toBe(released.length);
    console.log(
      `first posts: ${members.size} members, ${released.filter((id) => first.includes(id)).length} released`,
    );

    // A group of near-duplicates of the flooded intent forming fast while the surge is open, in words
    // that are not the surge's (its third post): held for it, asked at once and not taken in — yet
    // kept waiting (a forming group during a flood is nearly always the outage's, and joins as it
    // grows), asked again each time the surge has grown by half, and reviewed FLOOD_HOLD_MS after it
    // was first asked, not at the end of its hold.
    const delayedBefore = delayed.length;
    await page(3, 300, [
      'しおりノートでPDFの書き出しが途中で止まる',
      'しおりノートでPDFの書き出しが途中で止まる…',
      'しおりノートでPDFの書き出しが途中で止まる！',
    ]);
    const forming = delayed.slice(delayedBefore);
    expect(forming.length).toBeGreaterThan(0);
    const askedAt = clock;
    for (const id of forming) {
      expect(released).not.toContain(id);
      expect((await world.repos.surges.heldUntil(id))?.getTime()).toBeGreaterThan(clock + FLOOD_HOLD_MS);
    }
    clock += FLOOD_HOLD_MS - 1_000;
    await page(1, 300);
    for (const id of forming) expect(released).not.toContain(id);
    clock = askedAt + FLOOD_HOLD_MS;
    await page(1, 300);
    for (const id of forming) {
      expect(released).toContain(id);
      expect(await world.repos.surges.heldUntil(id)).toEqual(new Date(clock));
    }

    // While the surge is open: an everyday post of the watch is reviewed at once, in the review channel
    // (not marked); one in the outage's words that the surge does not take in resembles it, and is
    // reviewed at once too, but marked (reviewed in the surge's thread) and after the other reviews.
    const everyday = 'しおりノートのダークモードの色、落ち着いてて好き';
    const ownWords = [
      'しおりノート ログインできないから読書メモ見れない',
      'しおりノートにログインできない、パスワード再設定しても同じ',
      'しおりノート急にログインできなくて本棚見れない',
      'ログインできないんだが、しおりノートのサーバー大丈夫？',
      'しおりノート ログインできないから読書メモの検索もバーコード読み取りもできない',
    ];
    const before = atOnce.length;
    // Three minutes on (the surge still open, its flood over: nothing joins it for its words alone).
    clock += 3 * 60_000;
    await page(1 + ownWords.length, 300, [everyday, ...ownWords]);
    const handed = atOnce.slice(before);
    const rows = await world.repos.surges.history(new Date(0), handed);
    const byText = new Map(rows.map((r) => [r.text, r]));
    const plain = byText.get(everyday);
    expect(plain?.surgeId).toBeNull();
    expect(alike).not.toContain(plain?.id);
    expect(await world.repos.surges.heldUntil(plain?.id as string)).toBeNull();
    const alone = ownWords
      .map((text) => byText.get(text))
      .filter((r) => r !== undefined && r.surgeId === null);
    // Marked for the thread exactly when reviewed as alike. (Which of them stay alone and resemble the
    // surge depends on the detector's minute and hour windows, so on the wall clock: a CI run had none
    // alike. That a post in the surge's words resembles it and an everyday one does not is held by
    // packages/rules' detector.test.ts, on a clock of its own.)
    for (const row of alone)
      expect(await world.repos.surges.heldUntil(row?.id as string)).toEqual(
        alike.includes(row?.id as string) ? new Date(clock) : null,
      );
    console.log(
      `own words: ${ownWords.length - alone.length} joined, ${alone.filter((row) => alike.includes(row?.id as string)).length} alike`,
    );
  });
});

describe('a new holder of the surge lease', () => {
  it('asks the matches held before it took over as soon as the surge can tell', async () => {
    const w = await createTestWorld({ config: HOLDING_CONFIG });
    try {
      await watchingSince(w);
      await storeHistory(w, 0.25, 0.2);
      let now = Date.now();
      let holder: SurgeRunner | null = null;
      const heldHere: string[] = [];
      const letGo: string[] = [];
      const deps = ingestDeps(
        w,
        {
          notifyMany: async (ids, options) => {
            if (options?.delayMs) heldHere.push(...ids);
          },
          release: async (ids) => {
            letGo.push(...ids);
          },
          review: async (ids) => {
            if (ids.length === 0) return;
            await w.repos.surges.markPending(ids);
            await holder?.handle({ matchIds: [...ids] });
          },
        },
        () => new Date(now),
      );
      // Its delayed jobs (the hold's end) are left alone: what is asked here is asked at once.
      const jobs = { enqueue: (async () => ({})) as never };
      const page = async (count: number, texts: readonly string[] = []) => {
        const posts = Array.from({ length: count }, (_, i) => {
          now += 300;
          return outagePost(now, texts[i]);
        });
        await ingestPosts({ accountId: w.accounts.x, posts }, deps);
      };
      // The first holder sees the flood begin and holds matches for it; then it is gone.
      holder = await rebuildSurgeRunner(deps, jobs);
      await page(7, FIRST);
      await page(5, MORE);
      expect(heldHere.length).toBeGreaterThan(0);
      expect((await w.repos.surges.list()).every((s) => s.count < 20)).toBe(true);
      const held = (await w.repos.surges.history(new Date(0)))
        .filter((m) => m.surgeId === null && m.heldUntil !== null && m.heldUntil > now)
        .map((m) => m.id);
      expect(held.length).toBeGreaterThan(0);
      // The next one, rebuilt from the database, as the flood goes on until its surge has minCount
      // members: every match held before is asked then — joined, or let go now, before its hold ends.
      holder = await rebuildSurgeRunner(deps, jobs);
      for (let i = 0; i < 10 && (await w.repos.surges.list()).every((s) => s.count < 20); i++) await page(5);
      expect((await w.repos.surges.list())[0]?.count).toBeGreaterThanOrEqual(20);
      const after = new Map((await w.repos.surges.history(new Date(0), held)).map((m) => [m.id, m]));
      for (const id of held) {
        const match = after.get(id);
        if (match?.surgeId !== null) continue;
        expect(letGo).toContain(id);
        expect(match.heldUntil).toBeLessThanOrEqual(now);
      }
    } finally {
      await w.close();
    }
  }, 60_000);
});
