import type { MatchRecord } from '@kikimimi/db';
import {
  createTestDb,
  decideAll,
  engineFor,
  makePost,
  NOW,
  type TestDb,
  WEB_ACTOR,
} from '@kikimimi/db/testing';
import type { PostInput } from '@kikimimi/rules';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDesk, type DeskActor } from './desk.ts';
import { failureMessage, problemMessage, skipMessage } from './messages.ts';
import { createOutboxRelay } from './outbox-relay.ts';
import { createSurgeDesk, type SurgeDesk, type SurgeSuccess } from './surge-desk.ts';
import { MAX_SURGE_REPLIES } from './surge-replies.ts';

/*
 * The decisions on a whole surge that answer people: a reply to its members (each through the rules
 * of a single reply, exactly once, paced per account) and its escalation (one per target), against a
 * real PostgreSQL.
 */

let t: TestDb;
let surgeDesk: SurgeDesk;
let clock = NOW;
const accounts = { x: '', mastodon: '' };
const EDITOR: DeskActor = { ...WEB_ACTOR, kind: 'web', role: 'editor' };
const VIEWER: DeskActor = { kind: 'web', id: 'u9', name: 'Viewer', role: 'viewer' };
const REVIEWER: DeskActor = { kind: 'discord', id: '4242', name: 'reviewer', roleIds: ['777'] };

const CONFIG = {
  variables: { helpUrl: 'https://help.example.com/outage' },
  watches: [{ id: 'brand', name: 'ブクログ', query: 'ブクログ OR booklog' }],
  templates: [
    {
      id: 'guide-x',
      platform: 'x',
      category: 'guidance',
      text: '{author.name}さん、障害の情報はこちら {vars.helpUrl}',
    },
    {
      id: 'guide-m',
      platform: 'mastodon',
      category: 'guidance',
      text: '障害の情報はこちらです {vars.helpUrl}',
    },
  ],
  escalation: [
    { id: 'eng', when: { query: '障害' }, actions: { route: 'engineering' } },
    { id: 'pr', when: { query: '炎上' }, actions: { route: 'pr' } },
  ],
  suppression: { authorCooldownHours: 72, maxAgeHours: 0 },
  // Short, so that a long Mastodon handle (counted in front of the reply) makes the text too long.
  platforms: { mastodon: { maxCharacters: 60 } },
  surges: { replyIntervalSeconds: 30 },
};

const setConfig = async (extra: Record<string, unknown> = {}) => {
  const saved = await t.repos.config.replace({ ...CONFIG, ...extra }, WEB_ACTOR);
  if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
};

interface Member {
  readonly id: string;
  readonly platform?: 'x' | 'mastodon';
  readonly handle?: string;
  readonly authorId?: string;
  readonly name?: string;
  /** Stored without an account (an imported post). */
  readonly noAccount?: boolean;
}

let surgeSeq = 0;
let arrival = 0;
/** Stores the members' posts (the real rules' decisions) and records them as one surge. */
async function makeSurge(members: readonly Member[]) {
  const byPost = new Map<string, MatchRecord>();
  for (const m of members) {
    const platform = m.platform ?? 'x';
    const author: PostInput['author'] = {
      id: m.authorId ?? `author-${m.id}`,
      handle: m.handle ?? `user${m.id}`,
      displayName: m.name ?? `User ${m.id}`,
      followers: 3,
    };
    const post = makePost(m.id, 'ブクログ ログインできない', { platform, author });
    const account = m.noAccount ? null : accounts[platform];
    // Members arrive one after the other: the order their replies go out in.
    arrival += 1;
    const stored = await t.repos.ingest.storeBatch(
      account,
      decideAll(engineFor(CONFIG), [post]),
      undefined,
      new Date(NOW.getTime() + arrival),
    );
    const [match] = stored.newMatches;
    if (match === undefined) throw new Error(`${m.id} did not match`);
    byPost.set(m.id, match);
  }
  surgeSeq++;
  const id = `surge:00000000-0000-4000-8000-${String(surgeSeq).padStart(12, '0')}`;
  const at = NOW.getTime();
  await t.repos.surges.record(
    {
      id,
      watchId: 'brand',
      status: 'open',
      detectedAt: at,
      firstAt: at - 60_000,
      lastAt: at,
      count: members.length,
      intents: { trouble: members.length },
      platforms: { x: members.length },
      examples: [],
      perMinute: [],
    },
    [...byPost.values()].map((m) => m.id),
  );
  const match = (postId: string) => {
    const found = byPost.get(postId);
    if (found === undefined) throw new Error(`no member ${postId}`);
    return found;
  };
  return { id, match };
}

const replyOf = (matchId: string) => t.repos.replies.forMatch(matchId);
const outboxRows = async (queue: string) =>
  (
    await t.pool.query<{ job_id: string; payload: Record<string, string>; not_before: Date | null }>(
      'SELECT job_id, payload, not_before FROM outbox WHERE queue = $1 ORDER BY id',
      [queue],
    )
  ).rows;
const ok = (outcome: Awaited<ReturnType<SurgeDesk['replyToMembers']>>): SurgeSuccess => {
  if (!outcome.ok) throw new Error(`refused: ${JSON.stringify(outcome)}`);
  return outcome;
};
const reasons = (outcome: SurgeSuccess) =>
  Object.fromEntries((outcome.skipped ?? []).map((s) => [s.matchId, s.reason]));

beforeAll(async () => {
  t = await createTestDb('surgeact');
  accounts.x = (
    await t.repos.accounts.create({ platform: 'x', label: 'brand-x', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
  accounts.mastodon = (
    await t.repos.accounts.create(
      { platform: 'mastodon', label: 'brand-m', baseUrl: 'https://mstdn.example', credentials: { t: 1 } },
      WEB_ACTOR,
    )
  ).id;
  await t.repos.discord.set(
    { channels: { review: '100', engineering: '200', pr: '300' }, reviewerRoleIds: ['777'] },
    WEB_ACTOR,
  );
  await setConfig();
  surgeDesk = createSurgeDesk({ repos: t.repos, now: () => clock });
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  clock = new Date(clock.getTime() + 3_600_000);
  await setConfig();
  await t.pool.query('DELETE FROM outbox');
});

describe('a reply to a surge’s members', () => {
  it('answers each member once with its name filled in, and leaves out, with the reason, who may not be answered', async () => {
    const surge = await makeSurge([
      { id: '101', name: '花子' },
      { id: '102', authorId: 'contacted' },
      { id: '103', handle: 'asked_not_to' },
      { id: '104', authorId: 'twice', handle: 'twice' },
      { id: '105', authorId: 'twice', handle: 'twice' },
      { id: '106', noAccount: true },
      { id: '107' },
      { id: '201', platform: 'mastodon', handle: 'short@mstdn.example' },
      { id: '202', platform: 'mastodon', handle: `${'longhandle'.repeat(3)}@mstdn.example` },
    ]);
    // We answered the author of 102 an hour ago about something else: the cooldown applies.
    const [other] = (
      await t.repos.ingest.storeBatch(
        accounts.x,
        decideAll(engineFor(CONFIG), [
          makePost('199', 'ブクログ 最高', {
            author: { id: 'contacted', handle: 'contacted', displayName: 'C', followers: 1 },
          }),
        ]),
        undefined,
        NOW,
      )
    ).newMatches;
    const begun = await t.repos.replies.begin(
      other?.id ?? '',
      { accountId: accounts.x, text: 'どうも', idempotencyKey: 'k-199', actor: WEB_ACTOR },
      clock,
    );
    await t.repos.replies.markSent(begun.reply.id, { platformReplyId: 'p199', url: null }, clock);
    // 103 asked not to be contacted after their post arrived; 107 was dismissed on its own meanwhile.
    await setConfig({
      suppression: { ...CONFIG.suppression, doNotContact: [{ platform: 'x', handle: 'asked_not_to' }] },
    });
    await createDesk({ repos: t.repos, now: () => clock }).dismiss(EDITOR, surge.match('107').id, {});
    clock = new Date(clock.getTime() + 60_000);

    const ids = ['101', '102', '103', '104', '105', '106', '107', '201', '202'].map((p) => surge.match(p).id);
    const outcome = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { matchIds: ids, templateId: '' }));
    expect(outcome.kind).toBe('replied');
    expect(reasons(outcome)).toEqual({
      [surge.match('102').id]: 'author_cooldown',
      [surge.match('103').id]: 'do_not_contact',
      [surge.match('105').id]: 'same_person',
      [surge.match('106').id]: 'no_account',
      [surge.match('107').id]: 'already_handled',
      [surge.match('202').id]: 'too_long',
    });
    expect(outcome.queued?.map((q) => q.matchId).sort()).toEqual(
      ['101', '104', '201'].map((p) => surge.match(p).id).sort(),
    );
    // Each member's template for its platform, with the member's own name.
    expect((await replyOf(surge.match('101').id))?.text).toBe(
      '花子さん、障害の情報はこちら https://help.example.com/outage',
    );
    expect((await replyOf(surge.match('201').id))?.text).toBe(
      '障害の情報はこちらです https://help.example.com/outage',
    );
    expect(await replyOf(surge.match('102').id)).toBeNull();
    // The reasons are stored for the surge's page and read in both languages.
    const members = await t.repos.surges.members(surge.id);
    const skip202 = members.find((m) => m.id === surge.match('202').id)?.skip;
    expect(skip202).toMatchObject({ reason: 'too_long', params: { platform: 'Mastodon', limit: 60 } });
    expect(skipMessage(skip202 ?? { reason: '' }, 'ja')).toContain('Mastodon');
    expect(skipMessage({ reason: 'author_cooldown', params: { hours: 72 } }, 'en')).toBe(
      'This person was answered within the last 72 h (author cooldown).',
    );
    expect(skipMessage({ reason: 'same_person' }, 'ja')).toBe(
      '同じ人の別の投稿に返信します（1 人に 1 回）。',
    );
    expect(await t.repos.surges.replyProgress(surge.id)).toEqual({
      waiting: 0,
      queued: 3,
      sent: 0,
      failed: 0,
      skipped: 5,
    });
    // One decision per member answered (with the surge), one audit entry for the surge.
    const decisions = await t.repos.reviews.decisions(surge.match('104').id);
    expect(decisions).toMatchObject([{ kind: 'reply', detail: { category: 'guidance', surgeId: surge.id } }]);
    const audit = (await t.repos.audit.list({ limit: 50 })).filter((a) => a.action === 'surge.reply');
    expect(audit[0]).toMatchObject({ target: surge.id, detail: { queued: 3, skipped: { same_person: 1 } } });
    expect((await t.repos.surges.get(surge.id))?.handling).toEqual(['replied']);
  });

  it('counts the same handle on another platform as the same person only as the cooldown does', async () => {
    const surge = await makeSurge([
      { id: '251', handle: 'hana' },
      { id: '252', platform: 'mastodon', handle: 'hana@mstdn.example', authorId: 'hana-m' },
      { id: '253', platform: 'mastodon', handle: 'sun@a.example', authorId: 'sun-a' },
      { id: '254', platform: 'mastodon', handle: 'sun@b.example', authorId: 'sun-b' },
    ]);
    const outcome = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true }));
    // With the cooldown on and linkHandlesAcrossPlatforms (the defaults), x:hana and mastodon:hana@… are
    // one person; sun@a and sun@b on Mastodon are two.
    expect(reasons(outcome)).toEqual({ [surge.match('252').id]: 'same_person' });
    // With the cooldown off, only the same account is the same person.
    await setConfig({ suppression: { ...CONFIG.suppression, authorCooldownHours: 0 } });
    const other = await makeSurge([
      { id: '261', handle: 'kei' },
      { id: '262', platform: 'mastodon', handle: 'kei@mstdn.example', authorId: 'kei-m' },
    ]);
    expect(ok(await surgeDesk.replyToMembers(EDITOR, other.id, { all: true })).queued).toHaveLength(2);
  });

  it('never writes a second reply when pressed twice at once, nor later', async () => {
    const surge = await makeSurge([{ id: '301' }, { id: '302' }, { id: '303', platform: 'mastodon' }]);
    const text = '{author.name}さん、ただいま復旧作業中です。';
    const [a, b] = await Promise.all([
      surgeDesk.replyToMembers(EDITOR, surge.id, { all: true, text }),
      surgeDesk.replyToMembers(REVIEWER, surge.id, { all: 'on', text }),
    ]);
    const queued = [a, b].flatMap((o) => (o.ok ? (o.queued ?? []) : []));
    expect(queued).toHaveLength(3);
    expect(new Set(queued.map((q) => q.matchId)).size).toBe(3);
    // The one that came second found everyone answered: nothing is written.
    expect([a, b].filter((o) => !o.ok)).toEqual([{ ok: false, code: 'nothing_waiting' }]);
    expect(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true, text })).toEqual({
      ok: false,
      code: 'nothing_waiting',
    });
    expect(
      await surgeDesk.replyToMembers(EDITOR, surge.id, {
        matchIds: [surge.match('301').id],
        text: 'もう一度',
      }),
    ).toEqual({ ok: false, code: 'nothing_waiting' });
    expect(
      (await t.repos.audit.list({ limit: 50 })).filter(
        (e) => e.action === 'surge.reply' && e.target === surge.id,
      ),
    ).toHaveLength(1);
    // One reply row, one reply job (its id the single reply's: the same key wherever it is decided).
    const jobs = await outboxRows('reply');
    expect(jobs.map((j) => j.job_id).sort()).toEqual(
      ['301', '302', '303'].map((p) => `reply-${surge.match(p).id}`).sort(),
    );
    for (const p of ['301', '302', '303']) {
      expect(await t.repos.replies.listForMatch(surge.match(p).id)).toHaveLength(1);
      expect((await replyOf(surge.match(p).id))?.idempotencyKey).toBe(`kikimimi-${surge.match(p).id}`);
    }
  });

  it('paces the replies one per interval per account, after the ones already paced there', async () => {
    const surge = await makeSurge([
      { id: '401' },
      { id: '402' },
      { id: '403' },
      { id: '404', platform: 'mastodon' },
      { id: '405', platform: 'mastodon' },
    ]);
    const start = clock.getTime();
    const outcome = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true, category: 'guidance' }));
    const due = (p: string) =>
      outcome.queued?.find((q) => q.matchId === surge.match(p).id)?.dueAt.getTime() ?? Number.NaN;
    expect(['401', '402', '403'].map((p) => due(p) - start)).toEqual([0, 30_000, 60_000]);
    expect(['404', '405'].map((p) => due(p) - start)).toEqual([0, 30_000]);
    expect((await replyOf(surge.match('403').id))?.dueAt?.getTime()).toBe(start + 60_000);
    // The jobs wait for their time in the outbox too (the first goes at once).
    const jobs = new Map((await outboxRows('reply')).map((j) => [j.payload.matchId, j.not_before]));
    expect(jobs.get(surge.match('401').id)).toBeNull();
    expect(jobs.get(surge.match('402').id)?.getTime()).toBe(start + 30_000);

    // Ten seconds later another surge on the same accounts: behind the queue already taken.
    clock = new Date(start + 10_000);
    const next = await makeSurge([{ id: '411' }, { id: '412', platform: 'mastodon' }]);
    const later = ok(await surgeDesk.replyToMembers(EDITOR, next.id, { all: true }));
    const dueOf = (p: string) =>
      later.queued?.find((q) => q.matchId === next.match(p).id)?.dueAt.getTime() ?? Number.NaN;
    expect(dueOf('411') - start).toBe(90_000);
    expect(dueOf('412') - start).toBe(60_000);

    // The relay hands each job to its queue with what is left of its wait.
    const added: { jobId: string; delay: number | undefined }[] = [];
    const relay = createOutboxRelay({
      outbox: t.repos.outbox,
      jobs: {
        enqueue: async (_name, _payload, options) => {
          added.push({ jobId: options?.jobId ?? '', delay: options?.delay });
          return {} as never;
        },
        ensure: async () => 'added',
      },
      log: { warn: () => {} },
      now: () => start + 20_000,
    });
    await relay.flush();
    const delayOf = (matchId: string) => added.find((a) => a.jobId === `reply-${matchId}`)?.delay;
    expect(delayOf(surge.match('401').id)).toBeUndefined();
    expect(delayOf(surge.match('402').id)).toBe(10_000);
    expect(delayOf(next.match('411').id)).toBe(70_000);
  });

  it('honours the daily reply cap, counting the replies still to be sent', async () => {
    // The next day: the earlier tests' replies count no more.
    clock = new Date(clock.getTime() + 25 * 3_600_000);
    await setConfig({ suppression: { ...CONFIG.suppression, dailyReplyCap: { x: 2 } } });
    const first = await makeSurge([{ id: '501' }]);
    ok(await surgeDesk.replyToMembers(EDITOR, first.id, { all: true }));
    const surge = await makeSurge([{ id: '502' }, { id: '503' }, { id: '504', platform: 'mastodon' }]);
    const outcome = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true }));
    expect(outcome.queued?.map((q) => q.matchId).sort()).toEqual(
      [surge.match('502').id, surge.match('504').id].sort(),
    );
    expect(outcome.skipped).toEqual([
      { matchId: surge.match('503').id, reason: 'daily_cap', params: { cap: 2, platform: 'x' } },
    ]);
  });

  it('answers at most MAX_SURGE_REPLIES members a press, oldest first, and says how many still wait', async () => {
    const surge = await makeSurge(
      Array.from({ length: MAX_SURGE_REPLIES + 2 }, (_, i) => ({ id: `8${String(i).padStart(4, '0')}` })),
    );
    const first = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true }));
    expect(first.queued).toHaveLength(MAX_SURGE_REPLIES);
    expect(first.remaining).toBe(2);
    expect(first.queued?.[0]?.matchId).toBe(surge.match('80000').id);
    expect(await replyOf(surge.match(`8${String(MAX_SURGE_REPLIES).padStart(4, '0')}`).id)).toBeNull();
    expect((await t.repos.surges.replyProgress(surge.id)).waiting).toBe(2);
    const next = ok(await surgeDesk.replyToMembers(EDITOR, surge.id, { all: true }));
    expect(next.queued).toHaveLength(2);
    expect(next.remaining).toBe(0);
    // Paced after the first press's replies on the same account.
    const lastOfFirst = Math.max(...(first.queued ?? []).map((q) => q.dueAt.getTime()));
    expect(Math.min(...(next.queued ?? []).map((q) => q.dueAt.getTime()))).toBe(lastOfFirst + 30_000);
  }, 60_000);

  it('refuses a bad form with its problems, and a viewer', async () => {
    const surge = await makeSurge([{ id: '601' }]);
    const outsider = await makeSurge([{ id: '602' }]);
    const refused = await surgeDesk.replyToMembers(EDITOR, surge.id, { matchIds: [], text: 'x' });
    expect(refused).toEqual({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'members', code: 'no_members' }],
    });
    if (refused.ok || refused.code !== 'invalid') throw new Error('expected problems');
    expect(problemMessage(refused.problems[0] ?? { field: 'members', code: 'no_members' }, 'en')).toBe(
      'Choose the members to answer, or “all waiting”.',
    );
    expect(
      await surgeDesk.replyToMembers(EDITOR, surge.id, { matchIds: [outsider.match('602').id], text: 'x' }),
    ).toMatchObject({ code: 'invalid', problems: [{ field: 'members', code: 'not_member' }] });
    const badPlaceholder = await surgeDesk.replyToMembers(EDITOR, surge.id, {
      all: true,
      text: '{author.nam}さん、こちらへ',
      templateId: 'nope',
    });
    expect(badPlaceholder).toEqual({
      ok: false,
      code: 'invalid',
      problems: [
        { field: 'templateId', code: 'unknown_template' },
        { field: 'text', code: 'bad_placeholder', params: { placeholder: '{author.nam}' } },
      ],
    });
    expect(await surgeDesk.replyToMembers(VIEWER, surge.id, { all: true, text: 'x' })).toEqual({
      ok: false,
      code: 'forbidden',
    });
    const audit = await t.repos.audit.list({ limit: 10 });
    expect(audit.find((a) => a.action === 'surge.refused')).toMatchObject({
      target: surge.id,
      detail: { attempted: 'reply' },
    });
    expect(await replyOf(surge.match('601').id)).toBeNull();
    expect(failureMessage({ ok: false, code: 'nothing_waiting' }, 'ja')).toContain(
      '返信を待っている人はいません',
    );
  });
});

describe('escalating a surge', () => {
  it('records one escalation per target, whoever presses twice, with one job', async () => {
    const surge = await makeSurge([{ id: '701' }, { id: '702' }]);
    const results = await Promise.all([
      surgeDesk.escalate(EDITOR, surge.id, { target: 'engineering' }),
      surgeDesk.escalate(REVIEWER, surge.id, { target: 'engineering' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toEqual({
      ok: false,
      code: 'already_escalated',
      target: 'engineering',
    });
    expect(ok(await surgeDesk.escalate(EDITOR, surge.id, { target: 'pr' })).target).toBe('pr');
    expect(await surgeDesk.escalate(EDITOR, surge.id, { target: 'legal' })).toEqual({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'target', code: 'unknown_target', params: { targets: 'engineering, pr' } }],
    });
    const jobs = await outboxRows('surgeEscalate');
    expect(jobs.map((j) => j.job_id)).toEqual([
      `surgeesc-${surge.id.replace(':', '_')}-engineering`,
      `surgeesc-${surge.id.replace(':', '_')}-pr`,
    ]);
    expect(jobs[0]?.payload).toMatchObject({ surgeId: surge.id, target: 'engineering' });
    expect((await t.repos.surges.escalations(surge.id)).map((e) => e.target)).toEqual(['engineering', 'pr']);
    expect((await t.repos.surges.get(surge.id))?.handling).toEqual(['escalated']);
    const audit = (await t.repos.audit.list({ limit: 20 })).filter((a) => a.action === 'surge.escalate');
    expect(audit).toHaveLength(2);
    // The members stay as they were: still waiting for an answer.
    expect((await t.repos.matches.get(surge.match('701').id))?.status).toBe('new');
  });
});
