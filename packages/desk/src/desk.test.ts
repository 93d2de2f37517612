import type { MatchRecord } from '@kikimimi/db';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  matchMaker,
  NOW,
  type TestDb,
  WEB_ACTOR,
} from '@kikimimi/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDesk, type Desk, type DeskActor } from './desk.ts';
import { failureMessage, problemMessage } from './messages.ts';

/*
 * The desk against a real PostgreSQL: each decision is written whole (decision, audit, status, the
 * reply row, the jobs in the outbox) or not at all, whoever takes it and however many take it at once.
 */

let t: TestDb;
let accountId: string;
let newMatch: () => Promise<MatchRecord>;
let desk: Desk;
let clock = NOW;

const EDITOR: DeskActor = { ...WEB_ACTOR, kind: 'web', role: 'editor' };
const VIEWER: DeskActor = { kind: 'web', id: 'u9', name: 'Viewer', role: 'viewer' };
const REVIEWER: DeskActor = { ...DISCORD_ACTOR, kind: 'discord', roleIds: ['777'] };
const STRANGER: DeskActor = { kind: 'discord', id: '5555', name: 'passer-by', roleIds: ['1'] };

const outbox = async (matchId: string) =>
  (
    await t.pool.query<{ queue: string; job_id: string; rerun: boolean }>(
      `SELECT queue, job_id, rerun FROM outbox WHERE payload->>'matchId' = $1 ORDER BY id`,
      [matchId],
    )
  ).rows;
const decisionsOf = async (match: MatchRecord, kind?: string) =>
  (await t.repos.reviews.decisions(match.id)).filter((d) => kind === undefined || d.kind === kind);
const auditOf = async (matchId: string) =>
  (await t.repos.audit.list({ limit: 100 })).filter((a) => a.target === matchId).map((a) => a.action);

beforeAll(async () => {
  t = await createTestDb('desk');
  ({ accountId, newMatch } = await matchMaker(t, '5'));
  await t.repos.discord.set(
    { channels: { review: '100', billing: '200', support: '300' }, reviewerRoleIds: ['777'] },
    WEB_ACTOR,
  );
  const saved = await t.repos.config.replace(
    {
      watches: [{ id: 'brand', query: 'ブクログ OR booklog' }],
      templates: [
        {
          id: 'thanks-x',
          platform: 'x',
          category: 'thanks',
          text: '{author.name}さん、ありがとうございます！',
        },
        { id: 'thanks-m', platform: 'mastodon', category: 'thanks', text: 'ありがとうございます！' },
      ],
      escalation: [
        { id: 'billing', when: { query: '課金 OR billing' }, actions: { route: 'billing' } },
        { id: 'support', when: { query: '障害' }, actions: { route: 'support' } },
      ],
    },
    WEB_ACTOR,
  );
  if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
  desk = createDesk({ repos: t.repos, now: () => clock });
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(() => {
  clock = new Date(clock.getTime() + 1000);
});

describe('reply', () => {
  it('writes the reply, the decision, its audit entry, the status and both jobs together', async () => {
    const match = await newMatch();
    const outcome = await desk.reply(EDITOR, match.id, {
      text: 'ありがとうございます！',
      templateId: 'thanks-x',
    });
    expect(outcome).toMatchObject({ ok: true, kind: 'replied', match: { status: 'replied' } });
    const reply = await t.repos.replies.forMatch(match.id);
    expect(reply).toMatchObject({ state: 'pending', accountId, idempotencyKey: `kikimimi-${match.id}` });
    expect(await decisionsOf(match, 'reply')).toMatchObject([
      {
        actor: WEB_ACTOR,
        detail: { category: 'thanks', templateId: 'thanks-x', text: 'ありがとうございます！' },
      },
    ]);
    expect(await auditOf(match.id)).toContain('match.reply');
    expect((await outbox(match.id)).map((j) => j.queue)).toEqual(['reply', 'refresh']);
    expect((await outbox(match.id))[0]?.job_id).toBe(`reply-${match.id}`);
  });

  it('answers a second reply, from anywhere, with "already handled" and writes nothing', async () => {
    const match = await newMatch();
    const results = await Promise.all([
      desk.reply(EDITOR, match.id, { text: 'one' }),
      desk.reply(REVIEWER, match.id, { text: 'two' }),
      desk.reply(EDITOR, match.id, { text: 'three' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, code: 'already_handled' },
      { ok: false, code: 'already_handled' },
    ]);
    expect(await decisionsOf(match, 'reply')).toHaveLength(1);
    expect((await outbox(match.id)).filter((j) => j.queue === 'reply')).toHaveLength(1);
  });

  it('checks the text the platform’s way and lists every problem of the input at once', async () => {
    const match = await newMatch();
    const outcome = await desk.reply(EDITOR, match.id, {
      text: 'あ'.repeat(141),
      templateId: 'nope',
      category: 'x',
    });
    expect(outcome).toEqual({
      ok: false,
      code: 'invalid',
      problems: [
        { field: 'templateId', code: 'unknown_template' },
        { field: 'category', code: 'unknown_category' },
        { field: 'text', code: 'too_long', params: { length: 282, limit: 280, platform: 'X' } },
      ],
    });
    expect(await desk.reply(EDITOR, match.id, { text: '  ' })).toMatchObject({
      problems: [{ field: 'text', code: 'empty' }],
    });
    expect(await desk.reply(EDITOR, match.id, { text: 'a'.repeat(10_001) })).toMatchObject({
      problems: [{ field: 'text', code: 'input_too_long', params: { max: 10_000 } }],
    });
    expect(await t.repos.replies.forMatch(match.id)).toBeNull();
    expect(await outbox(match.id)).toEqual([]);
  });

  it('counts the mention a Mastodon reply starts with once, whether the reviewer typed it or not', async () => {
    const [match] = (
      await t.repos.ingest.storeBatch(
        accountId,
        decideAll(engineFor(), [
          makePost('m-mention', 'ブクログ最高', {
            platform: 'mastodon',
            author: { id: 'ma', handle: 'alice@mstdn.jp', displayName: 'Alice', followers: 1 },
          }),
        ]),
        undefined,
        NOW,
      )
    ).newMatches;
    if (match === undefined) throw new Error('no match');
    const body = 'あ'.repeat(500 - '@alice '.length);
    // Mastodon counts a remote mention by its user name: "@alice " + 493 characters = 500, the limit.
    expect(await desk.reply(EDITOR, match.id, { text: `x${body}` })).toMatchObject({
      problems: [{ code: 'too_long', params: { length: 501, limit: 500 } }],
    });
    // Typed with the mention already in front: counted (and later sent) once.
    expect(await desk.reply(EDITOR, match.id, { text: `@alice@mstdn.jp ${body}` })).toMatchObject({
      ok: true,
    });
  });

  it('refuses suppressed matches, matches without an account, and unknown matches', async () => {
    const [suppressed] = (
      await t.repos.ingest.storeBatch(
        accountId,
        decideAll(engineFor(), [
          makePost('own-1', 'ブクログのお知らせ', {
            author: { id: 'own', handle: 'booklog_official', displayName: '', followers: 1 },
          }),
        ]),
        undefined,
        NOW,
      )
    ).newMatches;
    if (suppressed === undefined) throw new Error('no match');
    expect(suppressed.suppressed).toBe(true);
    expect(await desk.reply(EDITOR, suppressed.id, { text: 'hi' })).toEqual({
      ok: false,
      code: 'suppressed',
    });
    const [orphan] = (
      await t.repos.ingest.storeBatch(
        null,
        decideAll(engineFor(), [makePost('orphan-1', 'ブクログ好き')]),
        undefined,
        NOW,
      )
    ).newMatches;
    if (orphan === undefined) throw new Error('no match');
    expect(await desk.reply(EDITOR, orphan.id, { text: 'hi' })).toEqual({ ok: false, code: 'no_account' });
    expect(await desk.reply(EDITOR, '00000000-0000-4000-8000-000000000000', { text: 'hi' })).toEqual({
      ok: false,
      code: 'not_found',
    });
    expect(await desk.reply(EDITOR, 'not-a-uuid', { text: 'hi' })).toEqual({ ok: false, code: 'not_found' });
  });
});

describe('a post its author deleted', () => {
  it('refuses a reply or a dismissal of its closed match and writes nothing, in both languages', async () => {
    const match = await newMatch();
    await t.repos.ingest.applyDeletion(match.platform, match.postId, NOW);
    expect(await desk.reply(EDITOR, match.id, { text: 'ありがとうございます' })).toEqual({
      ok: false,
      code: 'post_deleted',
    });
    expect(await desk.dismiss(REVIEWER, match.id, {})).toEqual({ ok: false, code: 'post_deleted' });
    expect(await t.repos.replies.forMatch(match.id)).toBeNull();
    expect(await decisionsOf(match)).toEqual([]);
    expect((await t.repos.matches.get(match.id))?.status).toBe('deleted');
    expect(failureMessage({ ok: false, code: 'post_deleted' }, 'ja')).toBe(
      '投稿者がこの投稿を削除したため、返信できません。',
    );
    expect(failureMessage({ ok: false, code: 'post_deleted' }, 'en')).toBe(
      'The author deleted this post: it can no longer be answered.',
    );
  });
});

describe('who may decide', () => {
  it('refuses viewers and Discord members without a reviewer role, and audits the attempt', async () => {
    const match = await newMatch();
    expect(await desk.reply(VIEWER, match.id, { text: 'hi' })).toEqual({ ok: false, code: 'forbidden' });
    expect(await desk.dismiss(STRANGER, match.id, {})).toEqual({ ok: false, code: 'forbidden' });
    expect(await desk.escalate(STRANGER, match.id, { target: 'billing' })).toEqual({
      ok: false,
      code: 'forbidden',
    });
    expect(await auditOf(match.id)).toEqual(['match.refused', 'match.refused', 'match.refused']);
    expect(await decisionsOf(match)).toEqual([]);
    expect((await t.repos.matches.get(match.id))?.status).toBe('new');
    expect(await desk.dismiss(REVIEWER, match.id, {})).toMatchObject({ ok: true, kind: 'dismissed' });
  });
});

describe('dismiss and escalate, taken at once from two places', () => {
  it('records one of two simultaneous dismissals, with its status, audit entry and job', async () => {
    const match = await newMatch();
    const results = await Promise.all([
      desk.dismiss(EDITOR, match.id, { reason: 'spam' }),
      desk.dismiss(REVIEWER, match.id, { reason: '' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, code: 'already_handled' }]);
    expect(await decisionsOf(match, 'dismiss')).toHaveLength(1);
    expect((await t.repos.matches.get(match.id))?.status).toBe('dismissed');
    expect((await auditOf(match.id)).filter((a) => a === 'match.dismiss')).toHaveLength(1);
    expect((await outbox(match.id)).map((j) => j.queue)).toEqual(['refresh']);
  });

  it('lets a dismissal and a reply race: exactly one of them wins', async () => {
    for (let round = 0; round < 5; round++) {
      const match = await newMatch();
      const [dismissed, replied] = await Promise.all([
        desk.dismiss(REVIEWER, match.id, {}),
        desk.reply(EDITOR, match.id, { text: 'ありがとうございます！' }),
      ]);
      expect([dismissed.ok, replied.ok].filter(Boolean)).toHaveLength(1);
      const status = (await t.repos.matches.get(match.id))?.status;
      expect(status).toBe(dismissed.ok ? 'dismissed' : 'replied');
      expect((await t.repos.replies.forMatch(match.id)) !== null).toBe(replied.ok);
    }
  });

  it('escalates to each target once — a second click later, from anywhere, is refused (no second ping)', async () => {
    const match = await newMatch();
    const results = await Promise.all([
      desk.escalate(REVIEWER, match.id, { target: 'billing' }),
      desk.escalate(EDITOR, match.id, { target: 'billing' }),
      desk.escalate(REVIEWER, match.id, { target: 'billing' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, code: 'already_escalated', target: 'billing' },
      { ok: false, code: 'already_escalated', target: 'billing' },
    ]);
    clock = new Date(clock.getTime() + 5 * 60_000);
    expect(await desk.escalate(REVIEWER, match.id, { target: 'billing' })).toEqual({
      ok: false,
      code: 'already_escalated',
      target: 'billing',
    });
    expect(await desk.escalate(EDITOR, match.id, { target: 'support' })).toMatchObject({ ok: true });
    expect((await outbox(match.id)).map((j) => j.job_id)).toEqual([
      `escalate-${match.id}-billing`,
      `escalate-${match.id}-support`,
    ]);
    expect((await t.repos.matches.get(match.id))?.status).toBe('escalated');
  });

  it('escalates an answered match without changing its status; refuses unknown targets', async () => {
    const match = await newMatch();
    await desk.reply(EDITOR, match.id, { text: 'thanks' });
    expect(await desk.escalate(EDITOR, match.id, { target: 'billing' })).toMatchObject({
      ok: true,
      match: { status: 'replied' },
    });
    const refused = await desk.escalate(EDITOR, match.id, { target: 'legal' });
    expect(refused).toEqual({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'target', code: 'unknown_target', params: { targets: 'billing, support' } }],
    });
    expect(await desk.dismiss(EDITOR, match.id, { reason: 'x'.repeat(201) })).toMatchObject({
      problems: [{ field: 'reason', code: 'input_too_long' }],
    });
  });
});

describe('replies that need a person', () => {
  it('marks a refused reply as posted by hand, once', async () => {
    const match = await newMatch();
    expect(await desk.markRepliedByHand(EDITOR, match.id, {})).toEqual({ ok: false, code: 'not_manual' });
    await desk.reply(REVIEWER, match.id, { text: 'thanks' });
    const reply = await t.repos.replies.forMatch(match.id);
    await t.repos.replies.markManualPending(
      reply?.id ?? '',
      'https://x.com/intent/post?in_reply_to=1',
      clock,
    );
    expect(await desk.markRepliedByHand(EDITOR, match.id, { url: 'javascript:alert(1)' })).toMatchObject({
      problems: [{ field: 'url', code: 'bad_url' }],
    });
    const done = await desk.markRepliedByHand(REVIEWER, match.id, { url: 'https://x.com/brand/status/9' });
    expect(done).toMatchObject({ ok: true, kind: 'manual_done', reply: { state: 'manual_done' } });
    expect(await desk.markRepliedByHand(EDITOR, match.id, {})).toEqual({ ok: false, code: 'not_manual' });
    expect(await auditOf(match.id)).toEqual(
      expect.arrayContaining(['reply.manual_done', 'match.manual_reply']),
    );
  });

  it('sends a failed reply again under the same job id, and only a failed one', async () => {
    const match = await newMatch();
    expect(await desk.retryReply(EDITOR, match.id)).toEqual({ ok: false, code: 'not_retryable' });
    await desk.reply(EDITOR, match.id, { text: 'thanks' });
    expect(await desk.retryReply(EDITOR, match.id)).toEqual({ ok: false, code: 'not_retryable' });
    const reply = await t.repos.replies.forMatch(match.id);
    await t.repos.replies.markFailed(reply?.id ?? '', 'platform down', clock);
    expect(await desk.retryReply(REVIEWER, match.id)).toMatchObject({
      ok: true,
      kind: 'retried',
      reply: { state: 'pending', attempts: 1 },
    });
    expect((await outbox(match.id)).filter((j) => j.queue === 'reply')).toEqual([
      { queue: 'reply', job_id: `reply-${match.id}`, rerun: false },
      { queue: 'reply', job_id: `reply-${match.id}`, rerun: true },
    ]);
    await t.repos.replies.markSent(reply?.id ?? '', { platformReplyId: '1', url: null }, clock);
    expect(await desk.retryReply(EDITOR, match.id)).toEqual({ ok: false, code: 'not_retryable' });
    expect(await auditOf(match.id)).toContain('reply.retry');
  });
});

describe('one transaction', () => {
  it('keeps nothing of a decision whose job cannot be written', async () => {
    const match = await newMatch();
    await expect(
      t.repos.desk.transaction(async (tx) => {
        await tx.lockMatch(match.id);
        await tx.recordDecision(match.id, 'dismiss', WEB_ACTOR, {}, clock);
        await tx.setStatus(match.id, 'dismissed', clock);
        await tx.enqueue({ queue: '', jobId: 'x', payload: {} }, clock);
      }),
    ).rejects.toThrow(/outbox job/u);
    expect(await decisionsOf(match)).toEqual([]);
    expect((await t.repos.matches.get(match.id))?.status).toBe('new');
    expect(await auditOf(match.id)).toEqual([]);
  });
});

describe('messages', () => {
  it('says every refusal and problem in Japanese and English', () => {
    expect(failureMessage({ ok: false, code: 'already_escalated', target: 'billing' }, 'ja')).toBe(
      'billing へはすでにエスカレーション済みです。',
    );
    expect(failureMessage({ ok: false, code: 'forbidden' }, 'en')).toMatch(/reviewer/u);
    expect(
      problemMessage(
        { field: 'text', code: 'too_long', params: { length: 300, limit: 280, platform: 'X' } },
        'en',
      ),
    ).toBe('Too long: 300 / 280 characters (as X counts).');
    expect(problemMessage({ field: 'target', code: 'unknown_target', params: { targets: '' } }, 'ja')).toBe(
      'このエスカレーション先はありません（なし）。',
    );
  });
});
