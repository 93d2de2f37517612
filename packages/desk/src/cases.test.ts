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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDesk, type Desk, type DeskActor } from './desk.ts';
import { failureMessage, problemMessage } from './messages.ts';

/* The desk's case actions against a real PostgreSQL: follow-ups, notes, assignment, state. */

let t: TestDb;
let accountId: string;
let newMatch: () => Promise<MatchRecord>;
let desk: Desk;
let clock = NOW;
const tick = () => {
  clock = new Date(clock.getTime() + 1000);
  return clock;
};

const EDITOR: DeskActor = { ...WEB_ACTOR, kind: 'web', role: 'editor' };
const VIEWER: DeskActor = { kind: 'web', id: 'u9', name: 'Viewer', role: 'viewer' };
const REVIEWER: DeskActor = { ...DISCORD_ACTOR, kind: 'discord', roleIds: ['777'] };

const outbox = async (matchId: string) =>
  (
    await t.pool.query<{ queue: string; job_id: string; payload: Record<string, unknown> }>(
      `SELECT queue, job_id, payload FROM outbox WHERE payload->>'matchId' = $1 ORDER BY id`,
      [matchId],
    )
  ).rows;

beforeAll(async () => {
  t = await createTestDb('desk_cases');
  ({ accountId, newMatch } = await matchMaker(t, '6'));
  await t.repos.discord.set({ channels: { review: '100' }, reviewerRoleIds: ['777'] }, WEB_ACTOR);
  const saved = await t.repos.config.replace({ watches: [{ id: 'brand', query: 'ブクログ' }] }, WEB_ACTOR);
  if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
  desk = createDesk({ repos: t.repos, now: tick });
});
afterAll(async () => {
  await t?.drop();
});

/** A match we replied to (sent as `ours`), and the customer's answer to it. */
async function answeredMatch(ours: string, answerId: string): Promise<MatchRecord> {
  const match = await newMatch();
  const outcome = await desk.reply(EDITOR, match.id, { text: 'ご不便をおかけしております' });
  if (!outcome.ok || outcome.reply === undefined) throw new Error('no reply');
  await t.repos.replies.markSent(outcome.reply.id, { platformReplyId: ours, url: null }, tick(), {
    followUntil: new Date(NOW.getTime() + 7 * 86_400_000),
  });
  await t.repos.cases.recordActivity(
    accountId,
    {
      kind: 'answer',
      post: {
        ...match.post,
        id: answerId,
        url: `https://x.com/i/status/${answerId}`,
        inReplyTo: ours,
        text: 'まだ直りません',
      },
      reading: { kind: 'unhappy', signals: ['まだ直りません'], lang: 'ja' },
    },
    tick(),
    () => [],
  );
  return match;
}

describe('follow-ups', () => {
  it('answer the customer’s answer once, whoever presses twice, with a job of its own', async () => {
    const match = await answeredMatch('ours-1', 'answer-1');
    const results = await Promise.all([
      desk.followUp(EDITOR, match.id, { text: '確認いたします' }),
      desk.followUp(REVIEWER, match.id, { text: '確認いたします' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, code: 'already_handled' });
    const replies = await t.repos.replies.listForMatch(match.id);
    expect(replies).toHaveLength(2);
    const followUp = replies[1];
    expect(followUp).toMatchObject({
      seq: 2,
      state: 'pending',
      idempotencyKey: `kikimimi-${match.id}-answer-1`,
      target: { postId: 'answer-1', url: 'https://x.com/i/status/answer-1' },
    });
    const jobs = (await outbox(match.id)).filter((j) => j.queue === 'reply');
    expect(jobs.map((j) => j.job_id)).toEqual([`reply-${match.id}`, `reply-${followUp?.id}`]);
    expect(jobs[1]?.payload).toEqual({ matchId: match.id, replyId: followUp?.id });
  });

  it('a follow-up the platform refused is marked replied by hand, and a failed one sent again, by its own row', async () => {
    const match = await answeredMatch('ours-9', 'answer-9');
    const outcome = await desk.followUp(EDITOR, match.id, { text: '確認いたします' });
    if (!outcome.ok || outcome.reply === undefined) throw new Error('no follow-up');
    await t.repos.replies.markFailed(outcome.reply.id, 'HTTP 503', tick());
    const retried = await desk.retryReply(EDITOR, match.id);
    expect(retried).toMatchObject({ ok: true, reply: { id: outcome.reply.id, state: 'pending' } });
    expect((await outbox(match.id)).filter((j) => j.job_id === `reply-${outcome.reply?.id}`)).toHaveLength(2);
    await t.repos.replies.markManualPending(
      outcome.reply.id,
      'https://x.com/intent/post?in_reply_to=answer-9',
      tick(),
    );
    const done = await desk.markRepliedByHand(REVIEWER, match.id, {});
    expect(done).toMatchObject({ ok: true, reply: { id: outcome.reply.id, state: 'manual_done' } });
    expect((await t.repos.replies.forMatch(match.id))?.state).toBe('sent');
  });

  it('need our first reply sent and an answer of the customer', async () => {
    const fresh = await newMatch();
    expect(await desk.followUp(EDITOR, fresh.id, { text: 'x' })).toEqual({ ok: false, code: 'not_replied' });
    const replied = await newMatch();
    const first = await desk.reply(EDITOR, replied.id, { text: 'ありがとうございます' });
    if (!first.ok || first.reply === undefined) throw new Error('no reply');
    await t.repos.replies.markSent(first.reply.id, { platformReplyId: 'ours-2', url: null }, tick());
    const none = await desk.followUp(EDITOR, replied.id, { text: 'x' });
    expect(none).toEqual({ ok: false, code: 'no_answer' });
    if (!none.ok) expect(failureMessage(none, 'ja')).toMatch(/お客さまからの返信/u);
    const answered = await answeredMatch('ours-3', 'answer-3');
    const unknown = await desk.followUp(EDITOR, answered.id, { text: 'x', answerId: 'nope' });
    expect(unknown).toMatchObject({ ok: false, code: 'invalid', problems: [{ field: 'answer' }] });
    const tooLong = await desk.followUp(EDITOR, answered.id, { text: 'あ'.repeat(300) });
    expect(tooLong).toMatchObject({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'text', code: 'too_long' }],
    });
    expect(await t.repos.replies.listForMatch(answered.id)).toHaveLength(1);
  });

  it('are held to the suppression rules of a first reply — do-not-contact, our own accounts, the daily cap — but not the cooldown', async () => {
    const match = await answeredMatch('ours-s', 'answer-s');
    const handle = match.post.author.handle;
    const configure = async (suppression: Record<string, unknown>) => {
      const saved = await t.repos.config.replace(
        { watches: [{ id: 'brand', query: 'ブクログ' }], suppression },
        WEB_ACTOR,
      );
      if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
    };
    try {
      await configure({ doNotContact: [{ platform: 'x', handle: `@${handle.toLowerCase()}` }] });
      const doNotContact = await desk.followUp(EDITOR, match.id, { text: '確認いたします' });
      expect(doNotContact).toEqual({ ok: false, code: 'follow_up_suppressed', reason: 'do_not_contact' });
      if (!doNotContact.ok) {
        expect(failureMessage(doNotContact, 'ja')).toBe(
          'このフォローアップは送れません。連絡しないでほしいと言われた人です。',
        );
        expect(failureMessage(doNotContact, 'en')).toBe(
          'This follow-up cannot be sent. This person asked not to be contacted.',
        );
      }

      await configure({ ownAccounts: [{ platform: 'x', handle }] });
      expect(await desk.followUp(REVIEWER, match.id, { text: '確認いたします' })).toMatchObject({
        ok: false,
        code: 'follow_up_suppressed',
        reason: 'own_account',
      });

      await configure({ dailyReplyCap: { x: 0 } });
      const capped = await desk.followUp(EDITOR, match.id, { text: '確認いたします' });
      expect(capped).toEqual({
        ok: false,
        code: 'follow_up_suppressed',
        reason: 'daily_cap',
        params: { cap: 0, platform: 'x' },
      });
      if (!capped.ok) {
        expect(failureMessage(capped, 'en')).toBe(
          'This follow-up cannot be sent. The daily reply cap on x (0) is reached.',
        );
      }
      // Nothing written for a refused follow-up.
      expect(await t.repos.replies.listForMatch(match.id)).toHaveLength(1);
      expect((await outbox(match.id)).filter((j) => j.queue === 'reply')).toHaveLength(1);

      // We answered this customer seconds ago, well within the cooldown: someone who wrote back is answered.
      await configure({ authorCooldownHours: 720, dailyReplyCap: { x: 1_000 } });
      expect(await desk.followUp(EDITOR, match.id, { text: '確認いたします' })).toMatchObject({
        ok: true,
        kind: 'followed_up',
      });
    } finally {
      await configure({});
    }
  });
});

describe('notes, assignment and state', () => {
  it('a note is an internal case event, shown in the Discord thread when written in the console', async () => {
    const match = await newMatch();
    const outcome = await desk.addNote(EDITOR, match.id, { text: '  返金の件は経理に確認中  ' });
    expect(outcome).toMatchObject({
      ok: true,
      kind: 'noted',
      event: { kind: 'note', text: '返金の件は経理に確認中' },
    });
    const fromDiscord = await desk.addNote(REVIEWER, match.id, { text: 'スレッドから' });
    expect(fromDiscord.ok).toBe(true);
    const events = await t.repos.cases.events(match.id);
    expect(events.map((e) => e.text)).toEqual(['返金の件は経理に確認中', 'スレッドから']);
    expect((await outbox(match.id)).map((j) => j.queue)).toEqual(['caseUpdate']);
    const empty = await desk.addNote(EDITOR, match.id, { text: '   ' });
    expect(empty).toMatchObject({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'note', code: 'empty_note' }],
    });
    if (!empty.ok && empty.code === 'invalid') {
      expect(problemMessage(empty.problems[0] as never, 'en')).toBe('Write the note.');
    }
    expect(await desk.addNote(VIEWER, match.id, { text: 'hi' })).toEqual({ ok: false, code: 'forbidden' });
    // Nothing is ever posted publicly for a note.
    expect(await t.repos.replies.listForMatch(match.id)).toHaveLength(0);
  });

  it('assigning (and taking) a case records who and when; the same assignee again changes nothing', async () => {
    const match = await newMatch();
    const taken = await desk.assign(REVIEWER, match.id, { assignee: DISCORD_ACTOR });
    expect(taken).toMatchObject({
      ok: true,
      match: { assignee: DISCORD_ACTOR },
      event: { kind: 'assigned' },
    });
    const again = await desk.assign(EDITOR, match.id, { assignee: DISCORD_ACTOR });
    expect(again).toMatchObject({ ok: true, event: undefined });
    const cleared = await desk.assign(EDITOR, match.id, { assignee: null });
    expect(cleared).toMatchObject({ ok: true, match: { assignee: null } });
    const bad = await desk.assign(EDITOR, match.id, {
      assignee: { kind: 'system', id: '', name: '' } as never,
    });
    expect(bad).toMatchObject({ ok: false, code: 'invalid', problems: [{ field: 'assignee' }] });
    expect((await t.repos.cases.events(match.id)).map((e) => e.kind)).toEqual(['assigned', 'assigned']);
  });

  it('a case is moved by hand between open, waiting and resolved', async () => {
    const match = await newMatch();
    expect(match.caseState).toBe('open');
    const resolved = await desk.setCaseState(EDITOR, match.id, { state: 'resolved' });
    expect(resolved).toMatchObject({
      ok: true,
      match: { caseState: 'resolved' },
      event: { detail: { previous: 'open' } },
    });
    expect(await desk.setCaseState(EDITOR, match.id, { state: 'closed' })).toMatchObject({
      ok: false,
      code: 'invalid',
      problems: [{ field: 'state', code: 'unknown_state' }],
    });
  });
});

describe('one customer across platforms', () => {
  it('links the author with their account on another platform; history then shows both', async () => {
    const match = await newMatch();
    const toot = makePost('m-1', 'ブクログ最高です', {
      platform: 'mastodon',
      url: 'https://mstdn.example/@reader/m-1',
      author: { id: 'm-reader', handle: 'reader@mstdn.example', displayName: 'Reader', followers: 1 },
    });
    await t.repos.ingest.storeBatch(accountId, decideAll(engineFor(), [toot]), undefined, NOW);
    const linked = await desk.linkIdentity(EDITOR, match.id, {
      platform: 'mastodon',
      handle: '@Reader@mstdn.example',
    });
    expect(linked).toMatchObject({ ok: true, kind: 'linked' });
    expect((await t.repos.people.identitiesOf('mastodon', 'm-reader')).map((i) => i.authorId)).toEqual([
      'm-reader',
      match.post.author.id,
    ]);
    expect(
      await desk.linkIdentity(EDITOR, match.id, { platform: 'mastodon', handle: '@ghost@nowhere' }),
    ).toMatchObject({
      ok: false,
      problems: [{ field: 'identity', code: 'unknown_identity' }],
    });
    expect(
      await desk.linkIdentity(EDITOR, match.id, { platform: 'x', handle: match.post.author.handle }),
    ).toMatchObject({
      ok: false,
      problems: [{ code: 'same_identity' }],
    });
    expect(
      await desk.linkIdentity(VIEWER, match.id, { platform: 'mastodon', handle: 'reader@mstdn.example' }),
    ).toEqual({
      ok: false,
      code: 'forbidden',
    });
  });
});
