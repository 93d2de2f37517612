import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DISCORD_ACTOR, matchMaker, NOW, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { MatchRecord } from '../types.ts';

/*
 * Decisions taken at the same moment from two places (a Discord button and the browser, two
 * browsers): each is recorded once, and a dismissal and a reply cannot both win.
 */

let t: TestDb;
let accountId: string;
let newMatch: () => Promise<MatchRecord>;

beforeAll(async () => {
  t = await createTestDb('reviews');
  ({ accountId, newMatch } = await matchMaker(t, '7'));
});
afterAll(async () => {
  await t?.drop();
});

const decisionsOf = async (match: MatchRecord, kind: string) =>
  (await t.repos.reviews.decisions(match.id)).filter((d) => d.kind === kind);

const replyInput = (match: MatchRecord) => ({
  accountId,
  text: 'ありがとうございます！',
  idempotencyKey: `kikimimi-${match.id}`,
  actor: WEB_ACTOR,
});

describe('review decisions taken at once', () => {
  it('records one of two simultaneous dismissals, with its status and audit entry', async () => {
    const match = await newMatch();
    const results = await Promise.all([
      t.repos.reviews.decide(match.id, 'dismiss', WEB_ACTOR, { reason: 'spam' }, NOW),
      t.repos.reviews.decide(match.id, 'dismiss', DISCORD_ACTOR, { reason: '' }, NOW),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'already_handled' }]);
    expect(await decisionsOf(match, 'dismiss')).toHaveLength(1);
    expect((await t.repos.matches.get(match.id))?.status).toBe('dismissed');
    const audit = await t.repos.audit.list({ limit: 50, action: 'match.dismiss' });
    expect(audit.filter((a) => a.target === match.id)).toHaveLength(1);
  });

  it('lets a dismissal and a reply race: exactly one of them wins', async () => {
    for (let round = 0; round < 5; round++) {
      const match = await newMatch();
      const [dismissed, replied] = await Promise.allSettled([
        t.repos.reviews.decide(match.id, 'dismiss', DISCORD_ACTOR, { reason: '' }, NOW),
        t.repos.replies.begin(match.id, replyInput(match), NOW),
      ]);
      const dismissWon = dismissed.status === 'fulfilled' && dismissed.value.ok;
      const replyWon = replied.status === 'fulfilled' && replied.value.created;
      expect([dismissWon, replyWon].filter(Boolean)).toHaveLength(1);
      if (dismissWon) {
        expect(replied.status === 'rejected' && replied.reason).toBeInstanceOf(ConflictError);
        expect(await t.repos.replies.forMatch(match.id)).toBeNull();
      } else {
        expect(dismissed.status === 'fulfilled' && dismissed.value).toEqual({
          ok: false,
          reason: 'already_handled',
        });
        expect(await decisionsOf(match, 'dismiss')).toEqual([]);
      }
    }
  });

  it('refuses a reply after a dismissal, and a dismissal after a reply', async () => {
    const dismissedFirst = await newMatch();
    expect((await t.repos.reviews.decide(dismissedFirst.id, 'dismiss', WEB_ACTOR, {}, NOW)).ok).toBe(true);
    await expect(
      t.repos.replies.begin(dismissedFirst.id, replyInput(dismissedFirst), NOW),
    ).rejects.toBeInstanceOf(ConflictError);

    const repliedFirst = await newMatch();
    expect((await t.repos.replies.begin(repliedFirst.id, replyInput(repliedFirst), NOW)).created).toBe(true);
    expect(await t.repos.reviews.decide(repliedFirst.id, 'dismiss', WEB_ACTOR, {}, NOW)).toEqual({
      ok: false,
      reason: 'already_handled',
    });
  });

  it('escalates to each target once, however many reviewers click it, and marks a new match escalated', async () => {
    const match = await newMatch();
    const results = await Promise.all(
      [WEB_ACTOR, DISCORD_ACTOR, WEB_ACTOR].map((actor) =>
        t.repos.reviews.decide(match.id, 'escalate', actor, { target: 'billing' }, NOW),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual([
      'already_escalated',
      'already_escalated',
    ]);
    expect((await t.repos.matches.get(match.id))?.status).toBe('escalated');
    // Another target is another decision; the status stays.
    expect(
      (
        await t.repos.reviews.decide(
          match.id,
          'escalate',
          WEB_ACTOR,
          { target: 'dev' },
          new Date(NOW.getTime() + 60_000),
        )
      ).ok,
    ).toBe(true);
    expect((await decisionsOf(match, 'escalate')).map((d) => d.detail.target)).toEqual(['billing', 'dev']);
  });

  it('escalates a match that was already answered without changing its status', async () => {
    const match = await newMatch();
    expect((await t.repos.reviews.decide(match.id, 'dismiss', WEB_ACTOR, {}, NOW)).ok).toBe(true);
    expect((await t.repos.reviews.decide(match.id, 'escalate', WEB_ACTOR, { target: 'pr' }, NOW)).ok).toBe(
      true,
    );
    const after = await t.repos.matches.get(match.id);
    expect(after?.status).toBe('dismissed');
  });

  it('refuses an unknown match, and anything but a dismissal or escalation', async () => {
    await expect(
      t.repos.reviews.decide('00000000-0000-4000-8000-000000000000', 'dismiss', WEB_ACTOR, {}, NOW),
    ).rejects.toBeInstanceOf(NotFoundError);
    const match = await newMatch();
    await expect(t.repos.reviews.decide(match.id, 'reply' as 'dismiss', WEB_ACTOR, {}, NOW)).rejects.toThrow(
      /not a dismissal or escalation/u,
    );
  });
});
