import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';

let t: TestDb;
const engine = engineFor({
  watches: [
    { id: 'brand', query: 'ブクログ OR booklog' },
    { id: 'app', query: 'アプリ' },
  ],
  escalation: [{ id: 'billing', when: { query: '課金' }, actions: { route: 'billing', priority: 'urgent' } }],
  suppression: { ownAccounts: [{ platform: 'x', handle: 'booklog_official' }], maxAgeHours: 0 },
});
const T0 = new Date('2026-11-24T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const all: MatchRecord[] = [];
let dismissedId: string | undefined;

beforeAll(async () => {
  t = await createTestDb('matches');
  // 30 matches over 30 minutes, two per batch (same created_at: ties broken by id).
  const texts = ['ブクログ最高、ありがとう', 'ブクログのアプリが落ちる', 'booklog 課金できない'];
  for (let i = 0; i < 30; i += 2) {
    const posts = [i, i + 1].map((n) =>
      makePost(String(1000 + n), texts[n % 3] as string, n % 5 === 0 ? { platform: 'mastodon' } : {}),
    );
    const { newMatches } = await t.repos.ingest.storeBatch(
      null,
      decideAll(engine, posts, at(i)),
      undefined,
      at(i),
    );
    all.push(...newMatches);
  }
  // One suppressed match (our own account).
  const own = makePost('2000', 'ブクログ更新しました', {
    author: { id: 'own', handle: 'booklog_official', displayName: '', followers: 0 },
  });
  all.push(
    ...(await t.repos.ingest.storeBatch(null, decideAll(engine, [own], at(40)), undefined, at(40)))
      .newMatches,
  );
});
afterAll(async () => {
  await t?.drop();
});

const newestFirst = (items: MatchRecord[]) =>
  [...items].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
const ids = (items: MatchRecord[]) => items.map((m) => m.id);

describe('matches.list', () => {
  it('pages through everything by (created_at, id) without gaps or repeats', async () => {
    expect(all).toHaveLength(31);
    const seen: MatchRecord[] = [];
    let before: MatchRecord | undefined;
    for (let guard = 0; guard < 20; guard++) {
      const page = await t.repos.matches.list({}, { limit: 4, before });
      if (page.length === 0) break;
      seen.push(...page);
      before = page.at(-1);
    }
    expect(ids(seen)).toEqual(ids(newestFirst(all)));
  });

  it.each([
    ['status', { status: 'suppressed' as const }, (m: MatchRecord) => m.status === 'suppressed'],
    ['platform', { platform: 'mastodon' as const }, (m: MatchRecord) => m.platform === 'mastodon'],
    ['intent', { intent: 'trouble' }, (m: MatchRecord) => m.decision.intent === 'trouble'],
    ['watch', { watch: 'app' }, (m: MatchRecord) => m.decision.watches.includes('app')],
    ['escalated', { escalated: true }, (m: MatchRecord) => m.escalated],
    ['not suppressed', { suppressed: false }, (m: MatchRecord) => !m.suppressed],
    [
      'time range',
      { from: at(10), to: at(20) },
      (m: MatchRecord) => m.createdAt >= at(10) && m.createdAt < at(20),
    ],
    [
      'several at once',
      { platform: 'x' as const, watch: 'brand', status: ['new', 'replied'] as const, escalated: false },
      (m: MatchRecord) =>
        m.platform === 'x' && m.decision.watches.includes('brand') && m.status === 'new' && !m.escalated,
    ],
  ])('filters by %s', async (_, filters, keep) => {
    const expected = newestFirst(all.filter(keep));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(ids(await t.repos.matches.list(filters as never, { limit: 500 }))).toEqual(ids(expected));
  });

  it('refuses unknown filters and bad pages with the field named', async () => {
    await expect(t.repos.matches.list({ state: 'new' } as never, { limit: 10 })).rejects.toThrow(/state/u);
    await expect(t.repos.matches.list({ status: 'lost' as never }, { limit: 10 })).rejects.toThrow(/status/u);
    await expect(t.repos.matches.list({}, { limit: 0 })).rejects.toThrow(/limit/u);
  });
});

describe('matches.setStatus and withoutReviewMessage', () => {
  it('sets first_response_at on the first response only', async () => {
    const target = all.find((m) => m.status === 'new') as MatchRecord;
    dismissedId = target.id;
    expect((await t.repos.matches.setStatus(target.id, 'new', at(50)))?.firstResponseAt).toBeNull();
    const escalated = await t.repos.matches.setStatus(target.id, 'escalated', at(60));
    expect(escalated).toMatchObject({ status: 'escalated', escalated: true, firstResponseAt: at(60) });
    const dismissed = await t.repos.matches.setStatus(target.id, 'dismissed', at(70));
    expect(dismissed).toMatchObject({ status: 'dismissed', firstResponseAt: at(60) });
    expect(await t.repos.matches.setStatus('00000000-0000-4000-8000-000000000000', 'new', at(70))).toBeNull();
  });

  it('lists new, unsuppressed matches without a posted review message, oldest first', async () => {
    const candidates = all.filter((m) => !m.suppressed);
    const [first, second] = await Promise.all([
      t.repos.matches.withoutReviewMessage(at(100), 1000),
      t.repos.matches.withoutReviewMessage(at(4), 1000),
    ]);
    // The match dismissed above is no longer 'new'.
    expect(first).toHaveLength(candidates.length - 1);
    const early = all.filter((m) => m.createdAt < at(4) && m.id !== dismissedId);
    expect(early.length).toBeGreaterThan(1);
    expect(second).toEqual(
      ids(early.sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1))),
    );

    const [a, b] = first as [string, string];
    await t.repos.reviews.claimMessage(a, '222', 'nonce-a'); // claimed, not posted yet: still listed
    await t.repos.reviews.claimMessage(b, '222', 'nonce-b');
    await t.repos.reviews.setMessageId(b, '999');
    const after = await t.repos.matches.withoutReviewMessage(at(100), 1000);
    expect(after).toContain(a);
    expect(after).not.toContain(b);
    expect(await t.repos.matches.withoutReviewMessage(at(100), 2)).toEqual(after.slice(0, 2));
  });
});

describe('reviews', () => {
  it('claims one review message per match, whoever asks', async () => {
    const match = all[5] as MatchRecord;
    const claims = await Promise.all([
      t.repos.reviews.claimMessage(match.id, '111', 'n1'),
      t.repos.reviews.claimMessage(match.id, '222', 'n2'),
      t.repos.reviews.claimMessage(match.id, '333', 'n3'),
    ]);
    expect(new Set(claims.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(claims[0]?.messageId).toBeNull();
    expect(await t.repos.reviews.setMessageId(match.id, '4242')).toEqual({ ...claims[0], messageId: '4242' });
    expect(await t.repos.reviews.getMessage(match.id)).toEqual({ ...claims[0], messageId: '4242' });
    expect(await t.repos.reviews.claimMessage(match.id, '999', 'n4')).toEqual({
      ...claims[0],
      messageId: '4242',
    });
    expect(await t.repos.reviews.setMessageId(all[6]?.id as string, '1')).toBeNull();
    await expect(
      t.repos.reviews.claimMessage('00000000-0000-4000-8000-000000000000', '1', 'n'),
    ).rejects.toThrow(/match "00000000-0000-4000-8000-000000000000" does not exist/u);
  });

  it('records decisions with their audit entry', async () => {
    const match = all[7] as MatchRecord;
    const refused = await t.repos.reviews.recordDecision(
      match.id,
      'refused',
      DISCORD_ACTOR,
      { attempted: 'reply' },
      at(80),
    );
    const dismissed = await t.repos.reviews.recordDecision(
      match.id,
      'dismiss',
      WEB_ACTOR,
      { reason: 'spam' },
      at(81),
    );
    expect(dismissed).toMatchObject({
      matchId: match.id,
      kind: 'dismiss',
      actor: WEB_ACTOR,
      detail: { reason: 'spam' },
      at: at(81),
    });
    expect(await t.repos.reviews.decisions(match.id)).toEqual([refused, dismissed]);
    const audit = await t.repos.audit.list({ limit: 10, action: 'match.*' });
    expect(audit.map((e) => [e.action, e.target])).toEqual([
      ['match.dismiss', match.id],
      ['match.refused', match.id],
    ]);
    await expect(
      t.repos.reviews.recordDecision(match.id, 'approve' as never, WEB_ACTOR, {}, at(82)),
    ).rejects.toThrow(/kind/u);
    await expect(
      t.repos.reviews.recordDecision(
        '00000000-0000-4000-8000-000000000000',
        'dismiss',
        WEB_ACTOR,
        {},
        at(82),
      ),
    ).rejects.toThrow(/does not exist/u);
    expect(await t.repos.audit.list({ limit: 10, action: 'match.*' })).toHaveLength(2);
  });
});
