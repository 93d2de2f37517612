import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../src/routes/inbox/csv.ts';
import { createTestApp, type TestApp } from './harness.ts';

/* Issue 14 items 7, 12 and 14: what pages and exports show to whom. */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('audit log: failed sign-ins (item 7)', () => {
  it('shows the user names typed in failed sign-ins to admins only', async () => {
    await t.repos.users.verify('typed-by-mistake-Secr3t', 'wrong password', { ip: '203.0.113.9' });
    for (const role of ['viewer', 'editor'] as const) {
      const page = await (await t.request('/audit', { as: role })).text();
      expect(page).toContain('user.login_failed');
      expect(page).not.toContain('typed-by-mistake-Secr3t');
      expect(page).not.toContain('203.0.113.9');
      const api = await (await t.request('/api/audit', { as: role })).text();
      expect(api).toContain('user.login_failed');
      expect(api).not.toContain('typed-by-mistake-Secr3t');
    }
    expect(await (await t.request('/audit', { as: 'admin' })).text()).toContain('typed-by-mistake-Secr3t');
    expect(await (await t.request('/api/audit', { as: 'admin' })).text()).toContain(
      'typed-by-mistake-Secr3t',
    );
  });
});

describe('CSV cells (item 12)', () => {
  it.each([
    ' =HYPERLINK("http://evil.example","x")',
    '\n=1+1',
    '\r\n@SUM(A1)',
    '  \t-2+3',
    '\u3000+cmd',
    '=1+1',
  ])('neutralises %j', (value) => {
    expect(csvCell(value).replace(/^"/u, '')).toMatch(/^'/u);
  });

  it('leaves ordinary text alone', () => {
    expect(csvCell(' hello = world')).toBe(' hello = world');
    expect(csvCell('ログインできない')).toBe('ログインできない');
  });
});

describe('language switch (item 14)', () => {
  it('never links to another host, whatever the path', async () => {
    for (const path of ['//evil.example/x', '/\\evil.example/x', '//evil.example']) {
      const res = await t.app.request(`http://localhost${path}`);
      const href = /<a href="([^"]*)">English<\/a>/u.exec(await res.text())?.[1];
      expect(href).toBeDefined();
      const target = new URL((href ?? '').replaceAll('&amp;', '&'), `http://localhost${path}`);
      expect(target.host).toBe('localhost');
      expect(target.searchParams.get('lang')).toBe('en');
    }
  });

  it('keeps the page and its other query parameters', async () => {
    const res = await t.request('/login?next=%2Finbox&lang=ja');
    expect(await res.text()).toMatch(/<a href="\?next=%2Finbox&amp;lang=en">English<\/a>/u);
  });
});

describe('/metrics (item 15)', () => {
  let m: TestApp;
  beforeAll(async () => {
    m = await createTestApp({ deps: { metricsToken: 'scrape-secret-0123456789' } });
  });
  afterAll(async () => {
    await m?.close();
  });

  it('needs sign-in as an admin when no token is configured', async () => {
    expect((await t.request('/metrics')).status).toBe(401);
    expect((await t.request('/metrics', { as: 'viewer' })).status).toBe(403);
    expect((await t.request('/metrics', { as: 'admin' })).status).toBe(200);
  });

  it('answers a scraper with the configured bearer token, and nobody without it', async () => {
    expect((await m.request('/metrics')).status).toBe(401);
    const wrong = await m.request('/metrics', {
      headers: { Authorization: 'Bearer scrape-secret-012345678X' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const ok = await m.request('/metrics', { headers: { Authorization: 'Bearer scrape-secret-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('kikimimi_http_requests_total');
  });
});
