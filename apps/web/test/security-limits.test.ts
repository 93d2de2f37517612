import { CONFIG_LIMITS } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/* Issue 14 item 3: documented limits with clear errors, and lists that page. */

let t: TestApp;
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('configuration size', () => {
  it('refuses 100,000 watches sent to the API quickly, saying the limit in the user’s language', async () => {
    const watches = Array.from({ length: 100_000 }, (_, i) => ({ id: `w${i}`, query: 'brand' }));
    const started = performance.now();
    const res = await t.request('/api/config', { method: 'PUT', as: 'admin', json: { watches } });
    const ms = performance.now() - started;
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain(
      `設定に入れられる数の上限（${CONFIG_LIMITS.watches}）を超えています: watches`,
    );
    expect((await t.repos.config.current()).version).toBe(0);
    expect(ms).toBeLessThan(5_000);
  });

  it('refuses an import with one watch more than the limit, next to nothing saved', async () => {
    const watches = Array.from({ length: CONFIG_LIMITS.watches + 1 }, (_, i) => ({
      id: `w${i}`,
      query: `b${i}`,
      platforms: ['x'],
    }));
    const res = await t.request('/import-export/import', {
      as: 'admin',
      form: { json: JSON.stringify({ watches }) },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain(`設定に入れられる数の上限（${CONFIG_LIMITS.watches}）を超えています`);
    expect((await t.repos.config.current()).version).toBe(0);
  });

  it('refuses watches that need more Bluesky searches than an account polls, saying why in Japanese', async () => {
    const watches = Array.from({ length: 51 }, (_, i) => ({
      id: `b${i}`,
      query: `"brand ${i}" OR "product ${i}"`,
      platforms: ['bluesky'],
    }));
    const res = await t.request('/api/config', { method: 'PUT', as: 'admin', json: { watches } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain(
      'これらのウォッチは Bluesky の検索が 102 個必要です（1 アカウントの上限は 100 個）',
    );
    expect((await t.repos.config.current()).version).toBe(0);
  });

  it('refuses one watch more than the limit through the API, in English', async () => {
    const watches = Array.from({ length: CONFIG_LIMITS.watches + 1 }, (_, i) => ({
      id: `w${i}`,
      query: `b${i}`,
      platforms: ['x'],
    }));
    const res = await t.request('/api/config?lang=en', { method: 'PUT', as: 'admin', json: { watches } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      problems: [
        {
          path: 'watches',
          message: `at most ${CONFIG_LIMITS.watches} watches in a configuration (kikimimi's limit)`,
        },
      ],
    });
  });

  it('shows the watches 100 at a time, with links to the other pages that keep the filter', async () => {
    const watches = Array.from({ length: 250 }, (_, i) => ({
      id: `w${String(i).padStart(3, '0')}`,
      query: `b${i}`,
      platforms: ['x'],
    }));
    expect((await t.repos.config.replace({ watches }, SYSTEM)).ok).toBe(true);
    const first = await (await t.request('/watches?platform=x&lang=en', { as: 'viewer' })).text();
    expect(first.match(/<tr id="watch-/gu)).toHaveLength(100);
    expect(first).toContain('id="watch-w000"');
    expect(first).not.toContain('id="watch-w100"');
    expect(first).toContain('Page 1 of 3 (250 in all)');
    expect(first).toContain('href="/watches?platform=x&amp;lang=en&amp;page=2" rel="next"');
    const last = await (await t.request('/watches?platform=x&page=3', { as: 'viewer' })).text();
    expect(last.match(/<tr id="watch-/gu)).toHaveLength(50);
    expect(last).toContain('id="watch-w249"');
    const beyond = await (await t.request('/watches?page=99', { as: 'viewer' })).text();
    expect(beyond).toContain('id="watch-w249"');
  });
});
