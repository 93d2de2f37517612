import type { MatchRecord } from '@kikimimi/db';
import { createTestDb, DISCORD_ACTOR, matchMaker, NOW, type TestDb, WEB_ACTOR } from '@kikimimi/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDesk, type Desk, type DeskActor, MAX_DEPARTMENT } from './desk.ts';
import { problemMessage } from './messages.ts';

/* Customer voices (ご意見) through the desk, against a real PostgreSQL. */

let t: TestDb;
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
  t = await createTestDb('desk_voices');
  ({ newMatch } = await matchMaker(t, '8'));
  await t.repos.discord.set({ channels: { review: '100' }, reviewerRoleIds: ['777'] }, WEB_ACTOR);
  desk = createDesk({ repos: t.repos, now: tick });
});
afterAll(async () => {
  await t?.drop();
});

describe('tagVoice', () => {
  it('tags a case for a department, audited, shown in the Discord thread; again: the summary replaced', async () => {
    const match = await newMatch();
    const tagged = await desk.tagVoice(EDITOR, match.id, {
      department: '  アプリ\n開発  ',
      summary: ' 検索が遅いという声 ',
    });
    expect(tagged).toMatchObject({
      ok: true,
      kind: 'voice_tagged',
      event: { kind: 'voice', text: '検索が遅いという声', detail: { department: 'アプリ 開発' } },
    });
    const again = await desk.tagVoice(REVIEWER, match.id, { department: 'アプリ 開発', summary: '' });
    expect(again.ok).toBe(true);
    const events = await t.repos.cases.events(match.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'voice', text: '', actor: DISCORD_ACTOR });
    await desk.tagVoice(EDITOR, match.id, { department: '営業' });
    expect((await t.repos.cases.events(match.id)).map((e) => e.detail.department)).toEqual([
      'アプリ 開発',
      '営業',
    ]);
    const audit = await t.pool.query<{ action: string; detail: Record<string, unknown> }>(
      `SELECT action, detail FROM audit_log WHERE target = $1 ORDER BY id`,
      [match.id],
    );
    expect(audit.rows.map((r) => [r.action, r.detail.department, r.detail.updated ?? false])).toEqual([
      ['case.voice', 'アプリ 開発', false],
      ['case.voice', 'アプリ 開発', true],
      ['case.voice', '営業', false],
    ]);
    // One thread message per tag, the second tag of a department included.
    const jobs = await outbox(match.id);
    expect(jobs.map((j) => j.queue)).toEqual(['caseUpdate', 'caseUpdate', 'caseUpdate']);
    expect(new Set(jobs.map((j) => j.job_id)).size).toBe(3);
  });

  it('refuses viewers, an empty or over-long department, an over-long summary: nothing written', async () => {
    const match = await newMatch();
    expect(await desk.tagVoice(VIEWER, match.id, { department: '営業' })).toEqual({
      ok: false,
      code: 'forbidden',
    });
    const empty = await desk.tagVoice(EDITOR, match.id, { department: '   ', summary: 'x'.repeat(2000) });
    expect(empty).toMatchObject({
      ok: false,
      code: 'invalid',
      problems: [
        { field: 'department', code: 'empty_department' },
        { field: 'summary', code: 'input_too_long' },
      ],
    });
    if (!empty.ok && empty.code === 'invalid') {
      expect(problemMessage(empty.problems[0] as never, 'en')).toBe('Name the department.');
    }
    const long = await desk.tagVoice(EDITOR, match.id, { department: 'x'.repeat(MAX_DEPARTMENT + 1) });
    expect(long).toMatchObject({ ok: false, problems: [{ field: 'department', code: 'input_too_long' }] });
    expect(await desk.tagVoice(EDITOR, crypto.randomUUID(), { department: '営業' })).toEqual({
      ok: false,
      code: 'not_found',
    });
    expect(await t.repos.cases.events(match.id)).toEqual([]);
    expect(await outbox(match.id)).toEqual([]);
  });
});
