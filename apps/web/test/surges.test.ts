import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';
import { setUpWorld, type World } from './inbox-fixtures.ts';

/** The console's surge pages: the list, a surge's page, and the decisions on the whole surge. */
let t: TestApp;
let w: World;
const SURGE = 'surge:11111111-2222-4333-8444-555555555555';

beforeAll(async () => {
  t = await createTestApp();
  w = await setUpWorld(t);
  const members = [
    await w.match('ブクログ ログインできない 1'),
    await w.match('ブクログ ログインできない 2'),
  ];
  const now = Date.now();
  await t.repos.surges.record(
    {
      id: SURGE,
      watchId: 'brand',
      status: 'open',
      detectedAt: now,
      firstAt: now - 120_000,
      lastAt: now,
      count: 2,
      intents: { trouble: 2 },
      platforms: { x: 2 },
      examples: [{ id: members[0]?.id ?? '', text: 'ブクログ ログインできない <b>1</b>' }],
      perMinute: [{ minute: Math.floor(now / 60_000) * 60_000, count: 2 }],
    },
    members.map((m) => m.id),
  );
});
afterAll(async () => {
  await t?.close();
});

const path = `/surges/${encodeURIComponent(SURGE)}`;

describe('surges in the console', () => {
  it('lists surges and shows one with its members, examples escaped', async () => {
    const list = await (await t.request('/surges', { as: 'viewer' })).text();
    expect(list).toContain(encodeURIComponent(SURGE));
    const response = await t.request(path, { as: 'viewer' });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('&lt;b&gt;1&lt;/b&gt;');
    expect(body).toContain('ブクログ ログインできない 2');
    // A viewer sees no forms.
    expect(body).not.toContain(`${path}/dismiss`);
  });

  it('a viewer cannot act; an editor announces once, dismisses all, closes', async () => {
    expect((await t.request(`${path}/close`, { method: 'POST', as: 'viewer', form: {} })).status).toBe(403);
    const announce = () =>
      t.request(`${path}/announce`, {
        method: 'POST',
        as: 'editor',
        form: { text: 'ただいま障害が発生しています。' },
      });
    expect((await announce()).status).toBe(303);
    expect((await announce()).status).toBe(409);
    const announcements = await t.repos.surges.announcements(SURGE);
    expect(announcements.length).toBeGreaterThan(0);
    expect(new Set(announcements.map((a) => a.accountId)).size).toBe(announcements.length);
    expect(t.enqueued.filter((j) => j.queue === 'announce')).toHaveLength(announcements.length);

    expect((await t.request(`${path}/dismiss`, { method: 'POST', as: 'editor', form: {} })).status).toBe(303);
    const members = await t.repos.surges.members(SURGE);
    expect(members.map((m) => m.status)).toEqual(['dismissed', 'dismissed']);

    expect((await t.request(`${path}/close`, { method: 'POST', as: 'editor', form: {} })).status).toBe(303);
    const surge = await t.repos.surges.get(SURGE);
    expect(surge?.status).toBe('closed');
    expect(surge?.handling).toEqual(['announced', 'dismissed', 'closed']);
    expect(t.enqueued.some((j) => j.queue === 'surge' && j.data.closeSurgeId === SURGE)).toBe(true);
  });
});
