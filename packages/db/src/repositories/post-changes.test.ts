import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  NOW,
  type TestDb,
} from '../../test/support.ts';

let t: TestDb;
const engine = engineFor();
const LATER = new Date(NOW.getTime() + 60_000);

beforeAll(async () => {
  t = await createTestDb('post_changes');
});
afterAll(async () => {
  await t?.drop();
});

const decided = (id: string, text: string) => decideAll(engine, [makePost(id, text)], LATER)[0] as never;
const postRow = async (id: string) =>
  (
    await t.pool.query<{ text: string; edited_at: Date | null; deleted_at: Date | null }>(
      `SELECT text, edited_at, deleted_at FROM posts WHERE platform = 'x' AND post_id = $1`,
      [id],
    )
  ).rows[0];
const auditOf = async (target: string) =>
  (
    await t.pool.query<{ action: string; detail: Record<string, unknown> }>(
      `SELECT action, detail FROM audit_log WHERE target = $1 ORDER BY id`,
      [target],
    )
  ).rows;

describe('applyEdit', () => {
  it('updates the stored post and decides its open match again', async () => {
    const [match] = (
      await t.repos.ingest.storeBatch(
        null,
        decideAll(engine, [makePost('e1', 'ブクログ使ってます')]),
        undefined,
        NOW,
      )
    ).newMatches;
    expect(match?.decision.intent).not.toBe('trouble');
    const result = await t.repos.ingest.applyEdit(null, decided('e1', 'booklogの課金ができない…'), LATER);
    expect(result).toEqual({ applied: true, newMatch: null, match: { id: match?.id, redecided: true } });
    expect(await postRow('e1')).toMatchObject({
      text: 'booklogの課金ができない…',
      edited_at: LATER,
      deleted_at: null,
    });
    const again = await t.repos.matches.get(match?.id as string);
    expect(again).toMatchObject({
      status: 'new',
      priority: 'high',
      escalated: true,
      post: { text: 'booklogの課金ができない…' },
    });
    expect(await auditOf('x:e1')).toEqual([
      {
        action: 'post.edit',
        detail: { matchId: match?.id, redecided: true, previousText: 'ブクログ使ってます' },
      },
    ]);
  });

  it('keeps the status and decision of a match a reviewer has decided, and records the edit', async () => {
    const [match] = (
      await t.repos.ingest.storeBatch(
        null,
        decideAll(engine, [makePost('e2', 'ブクログ使ってます')]),
        undefined,
        NOW,
      )
    ).newMatches;
    const id = match?.id as string;
    await t.pool.query(`UPDATE matches SET status = 'dismissed' WHERE id = $1`, [id]);
    await t.repos.reviews.recordDecision(id, 'dismiss', DISCORD_ACTOR, {}, NOW);
    const result = await t.repos.ingest.applyEdit(null, decided('e2', 'booklogの課金ができない…'), LATER);
    expect(result).toEqual({ applied: true, newMatch: null, match: { id, redecided: false } });
    expect(await t.repos.matches.get(id)).toMatchObject({ status: 'dismissed', decision: match?.decision });
    expect((await postRow('e2'))?.text).toBe('booklogの課金ができない…');
    expect((await auditOf('x:e2')).map((a) => a.detail.redecided)).toEqual([false]);
  });

  it('makes a new match of a stored post that matches only after the edit', async () => {
    await t.repos.ingest.storeBatch(
      null,
      decideAll(engine, [makePost('e3', '今日はいい天気')]),
      undefined,
      NOW,
    );
    const result = await t.repos.ingest.applyEdit(null, decided('e3', '今日はブクログが重い'), LATER);
    expect(result.match).toBeNull();
    expect(result.newMatch).toMatchObject({
      postId: 'e3',
      status: 'new',
      post: { text: '今日はブクログが重い' },
    });
    expect(await t.repos.matches.get(result.newMatch?.id as string)).toMatchObject({ postId: 'e3' });
  });

  it('stores a post it has never seen like a new one', async () => {
    const result = await t.repos.ingest.applyEdit(null, decided('e4', 'ブクログ最高'), LATER);
    expect(result).toMatchObject({ applied: true, match: null, newMatch: { postId: 'e4', status: 'new' } });
  });

  it('ignores an edit of a deleted post', async () => {
    await t.repos.ingest.storeBatch(null, decideAll(engine, [makePost('e5', 'ブクログ')]), undefined, NOW);
    await t.repos.ingest.applyDeletion('x', 'e5', NOW);
    expect(await t.repos.ingest.applyEdit(null, decided('e5', 'ブクログ!'), LATER)).toEqual({
      applied: false,
      newMatch: null,
      match: null,
    });
    expect((await postRow('e5'))?.text).toBe('ブクログ');
  });
});

describe('applyDeletion', () => {
  it('closes an open match as deleted and marks the post', async () => {
    const [match] = (
      await t.repos.ingest.storeBatch(null, decideAll(engine, [makePost('d1', 'ブクログ')]), undefined, NOW)
    ).newMatches;
    expect(await t.repos.ingest.applyDeletion('x', 'd1', LATER)).toEqual({
      matchId: match?.id,
      closed: true,
    });
    expect(await t.repos.matches.get(match?.id as string)).toMatchObject({ status: 'deleted' });
    expect((await postRow('d1'))?.deleted_at).toEqual(LATER);
    expect(await auditOf('x:d1')).toEqual([
      { action: 'post.delete', detail: { matchId: match?.id, closed: true } },
    ]);
    // A second delete (a replayed frame) changes nothing.
    expect(await t.repos.ingest.applyDeletion('x', 'd1', LATER)).toEqual({
      matchId: match?.id,
      closed: false,
    });
    expect(await auditOf('x:d1')).toHaveLength(1);
  });

  it('only marks the post of a match already answered', async () => {
    const [match] = (
      await t.repos.ingest.storeBatch(null, decideAll(engine, [makePost('d2', 'ブクログ')]), undefined, NOW)
    ).newMatches;
    await t.pool.query(`UPDATE matches SET status = 'replied' WHERE id = $1`, [match?.id]);
    expect(await t.repos.ingest.applyDeletion('x', 'd2', LATER)).toEqual({
      matchId: match?.id,
      closed: false,
    });
    expect(await t.repos.matches.get(match?.id as string)).toMatchObject({ status: 'replied' });
    expect((await postRow('d2'))?.deleted_at).toEqual(LATER);
  });

  it('says so for a post it never stored', async () => {
    expect(await t.repos.ingest.applyDeletion('x', 'never', LATER)).toEqual({ matchId: null, closed: false });
  });
});
