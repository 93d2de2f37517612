import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';
import { CONFIG, SYSTEM, setUpWorld, type World } from './inbox-fixtures.ts';

/* One clock: the organisation's time zone for every time the console shows and the dashboard's days. */

let t: TestApp;
let w: World;

beforeAll(async () => {
  t = await createTestApp();
  w = await setUpWorld(t);
  const saved = await t.repos.config.replace({ ...CONFIG, organization: { timeZone: 'Asia/Tokyo' } }, SYSTEM);
  if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
});
afterAll(async () => {
  await t?.close();
});

describe('the organisation’s time zone', () => {
  it('shows the inbox’s times in it, whatever the language, and keeps it in the browser', async () => {
    // Posted 08:30 UTC = 17:30 in Tokyo.
    const match = await w.match('ブクログありがとう', { createdAt: '2026-11-24T08:30:00Z' });
    for (const lang of ['ja', 'en']) {
      const page = await (await t.request(`/inbox/${match.id}?lang=${lang}`, { as: 'viewer' })).text();
      expect(page).toContain('data-tz="Asia/Tokyo">2026-11-24 17:30');
      expect(page).not.toMatch(/\d\d:\d\d UTC/u);
      // The browser rewrites the times in the same zone (not its own).
      expect(page).toContain('timeZone:e.dataset.tz');
    }
  });

  it('counts the dashboard’s days in it unless another zone is asked for', async () => {
    const page = await (await t.request('/dashboard?lang=en', { as: 'viewer' })).text();
    expect(page).toMatch(/id="dashboard-period">[^<]*Asia\/Tokyo/u);
    expect(page).toContain('<option value="Asia/Tokyo" selected>');
    const utc = await (await t.request('/dashboard?tz=UTC&lang=en', { as: 'viewer' })).text();
    expect(utc).toContain('<option value="UTC" selected>');
  });

  it('shows the configuration history in it', async () => {
    const history = await (await t.request('/import-export?lang=ja', { as: 'viewer' })).text();
    expect(history).toMatch(/<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia\/Tokyo<\/td>/u);
    expect(history).not.toContain(' JST<');
  });
});

describe('/organization: setting the time zone', () => {
  it('lets an admin change it, refuses a bad zone in the reader’s language, and a viewer', async () => {
    const form = await (await t.request('/organization', { as: 'admin' })).text();
    expect(form).toContain('value="Asia/Tokyo"');
    expect(form).toContain('<option value="Europe/Paris">');
    expect((await t.request('/organization', { as: 'viewer', form: { timeZone: 'UTC' } })).status).toBe(403);
    const bad = await t.request('/organization', { as: 'admin', form: { timeZone: 'Mars/Olympus' } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/data-field="timeZone">[^<]*タイムゾーン/u);
    const saved = await t.request('/organization', { as: 'admin', form: { timeZone: 'Europe/Paris' } });
    expect(saved.status).toBe(303);
    expect((await t.repos.config.current()).config.organization.timeZone).toBe('Europe/Paris');
    const dashboard = await (await t.request('/dashboard?lang=en', { as: 'admin' })).text();
    expect(dashboard).toContain('<option value="Europe/Paris" selected>');
    expect(dashboard).toContain('href="/organization"');
  });
});
