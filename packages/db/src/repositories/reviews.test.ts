import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, matchMaker, NOW, type TestDb } from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';

let t: TestDb;
let newMatch: () => Promise<MatchRecord>;
let channel = 0;

beforeAll(async () => {
  t = await createTestDb('reviews');
  ({ newMatch } = await matchMaker(t, '7'));
});
afterAll(async () => {
  await t?.drop();
});

/** `n` new matches, each with a review claimed in a channel of their own (nonce: its id's start). */
async function claimed(n: number): Promise<{ channelId: string; ids: string[] }> {
  channel++;
  const channelId = `thread-${channel}`;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const match = await newMatch();
    await t.repos.reviews.claimMessage(match.id, channelId, nonceOf(match.id));
    ids.push(match.id);
  }
  return { channelId, ids };
}
const nonceOf = (matchId: string) => matchId.replace(/-/gu, '').slice(0, 25);

describe('review messages shared by several reviews', () => {
  it("forms a group of the oldest waiting reviews with the forming review's nonce; found again, not formed twice", async () => {
    const { channelId, ids } = await claimed(6);
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const group = await t.repos.reviews.formGroup(e, 4, NOW);
    expect(group).toMatchObject({ channelId, nonce: nonceOf(e), messageId: null, formed: true });
    // Its own review and the three oldest waiting.
    expect([...(group?.matchIds ?? [])].sort()).toEqual([a, b, c, e].sort());
    // Asked again (its retry), or by a member's job: the same group, not formed again.
    expect(await t.repos.reviews.formGroup(e, 4, NOW)).toMatchObject({
      matchIds: group?.matchIds,
      formed: false,
    });
    expect(await t.repos.reviews.formGroup(b, 4, NOW)).toMatchObject({
      nonce: nonceOf(e),
      matchIds: group?.matchIds,
      formed: false,
    });
    expect((await t.repos.reviews.groupOf(a))?.matchIds).toEqual(group?.matchIds);
    // A review waiting alone is a group of its own.
    expect(await t.repos.reviews.groupOf(d)).toMatchObject({ matchIds: [d], nonce: nonceOf(d) });
    // Sent: every review of the group knows the message.
    const sent = await t.repos.reviews.setGroupMessageId(group as NonNullable<typeof group>, '9001');
    expect(sent.sort()).toEqual([a, b, c, e].sort());
    for (const id of [a, b, c, e]) expect((await t.repos.reviews.getMessage(id))?.messageId).toBe('9001');
    expect(await t.repos.reviews.formGroup(d, 4, NOW)).toMatchObject({ matchIds: [d, ids[5]], formed: true });
  });

  it('never puts a review in two groups formed at the same moment', async () => {
    const { ids } = await claimed(12);
    const groups = await Promise.all(ids.map((id) => t.repos.reviews.formGroup(id, 4, NOW)));
    const formed = groups.filter((g) => g?.formed);
    const members = formed.flatMap((g) => g?.matchIds ?? []);
    expect(new Set(members).size).toBe(members.length);
    expect(new Set(members)).toEqual(new Set(ids));
    for (const g of formed) expect(g?.matchIds.length).toBeLessThanOrEqual(4);
  });

  it("takes the reviews most likely a flood's after all the others, oldest first within each", async () => {
    const { ids } = await claimed(7);
    const [l1, l2, a, l3, b, c, leader] = ids as [string, string, string, string, string, string, string];
    await t.repos.surges.markLikely([l1, l2, l3]);
    const first = await t.repos.reviews.formGroup(leader, 4, NOW);
    expect(first?.matchIds).toHaveLength(4);
    expect([...(first?.matchIds ?? [])].sort()).toEqual([a, b, c, leader].sort());
    // Then the likely ones, in the order they were claimed.
    const next = await t.repos.reviews.formGroup(l3, 3, NOW);
    expect([...(next?.matchIds ?? [])].sort()).toEqual([l1, l2, l3].sort());
  });

  it('lets a refused group wait again, each review with its own nonce', async () => {
    const { ids } = await claimed(3);
    const [a, b, c] = ids as [string, string, string];
    const group = await t.repos.reviews.formGroup(c, 4, NOW);
    if (group === null) throw new Error('no group');
    await t.repos.reviews.releaseGroup(group, Object.fromEntries(ids.map((id) => [id, nonceOf(id)])));
    for (const id of ids)
      expect(await t.repos.reviews.getMessage(id)).toMatchObject({ nonce: nonceOf(id), groupedAt: null });
    // A group that was sent is not undone.
    const again = await t.repos.reviews.formGroup(a, 4, NOW);
    await t.repos.reviews.setGroupMessageId(again as NonNullable<typeof again>, '9002');
    await t.repos.reviews.releaseGroup(again as NonNullable<typeof again>, {});
    for (const id of [a, b, c]) expect((await t.repos.reviews.getMessage(id))?.messageId).toBe('9002');
  });

  it('takes no suppressed review, none waiting for the surge detector and none held for a surge', async () => {
    const { ids } = await claimed(5);
    const [suppressed, judging, held, free, leader] = ids as [string, string, string, string, string];
    await t.pool.query(`UPDATE matches SET suppressed = true WHERE id = $1`, [suppressed]);
    await t.repos.surges.markPending([judging]);
    await t.repos.surges.holdBack([{ id: held, until: new Date(Date.now() + 60_000) }]);
    const group = await t.repos.reviews.formGroup(leader, 4, new Date());
    expect([...(group?.matchIds ?? [])].sort()).toEqual([free, leader].sort());
    await expect(t.repos.reviews.formGroup(leader, 0, NOW)).rejects.toThrow(/reviews per message/u);
  });
});
