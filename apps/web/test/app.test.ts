import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { page } from '../src/layout.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from './harness.ts';

const SECRET_DETAIL = 'postgres://kikimimi:hunter2-db-password@db.internal/kikimimi';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    extend(app) {
      app.get('/_boom', () => {
        throw new Error(`connection to ${SECRET_DETAIL} failed`);
      });
      app.get('/api/_boom', () => {
        throw new Error(`connection to ${SECRET_DETAIL} failed`);
      });
      app.get('/_script', (c) => page(c, { title: 'script', body: 'x' as never, script: 'window.ok = 1;' }));
    },
  });
});
afterAll(async () => {
  await t?.close();
});

describe('security headers', () => {
  it('sends a strict CSP, no framing, no sniffing, a referrer policy and no caching', async () => {
    const res = await t.request('/login');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}'/u);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/u);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('puts the response’s nonce on the layout’s inline <style> and <script>, a new one each time', async () => {
    const session = await t.login('viewer');
    const first = await t.request('/_script', { as: session });
    const nonce = /'nonce-([^']+)'/u.exec(first.headers.get('content-security-policy') ?? '')?.[1] as string;
    const body = await first.text();
    expect(body).toContain(`<script nonce="${nonce}">window.ok = 1;</script>`);
    expect(body).toContain(`<style nonce="${nonce}">`);
    expect(body.match(/<script/gu)).toHaveLength(1);
    const second = await t.request('/_script', { as: session });
    expect(second.headers.get('content-security-policy')).not.toContain(nonce);
  });

  it('sends them on errors and redirects too', async () => {
    for (const path of ['/nope', '/_boom', '/']) {
      const res = await t.request(path);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('language', () => {
  it('follows ?lang=, remembers it in a cookie, else Accept-Language, else Japanese', async () => {
    expect(await (await t.request('/login')).text()).toContain('<html lang="ja">');
    const en = await t.request('/login', { headers: { 'Accept-Language': 'en-US,en;q=0.9,ja;q=0.5' } });
    expect(await en.text()).toContain('<html lang="en">');
    const chosen = await t.request('/login?lang=en', { headers: { 'Accept-Language': 'ja' } });
    expect(await chosen.text()).toContain('<html lang="en">');
    expect(chosen.headers.getSetCookie().find((c) => c.startsWith('lang='))).toMatch(
      /^lang=en; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax/u,
    );
    const remembered = await t.request('/login', { headers: { Cookie: 'lang=en', 'Accept-Language': 'ja' } });
    expect(await remembered.text()).toContain('<html lang="en">');
    const ignored = await t.request('/login?lang=fr');
    expect(ignored.headers.getSetCookie().some((c) => c.startsWith('lang='))).toBe(false);
  });
});

describe('errors', () => {
  it('answers 404 with a page in the user’s language, and JSON under /api', async () => {
    const ja = await t.request('/no/such/page');
    expect(ja.status).toBe(404);
    const jaBody = await ja.text();
    expect(jaBody).toContain('ページが見つかりません');
    expect(jaBody).toContain('<html lang="ja">');
    const en = await t.request('/no/such/page?lang=en');
    expect(en.status).toBe(404);
    expect(await en.text()).toContain('Page not found');
    const api = await t.request('/api/no/such/thing');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/application\/json/u);
    expect(await api.json()).toEqual({ error: 'not_found', message: 'no such resource' });
  });

  it('answers 500 without the error, its stack or any secret — the log has it, under a reference', async () => {
    for (const lang of ['ja', 'en'] as const) {
      const res = await t.request(`/_boom?lang=${lang}`);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toContain(lang === 'ja' ? 'エラーが発生しました' : 'Something went wrong');
      expect(body).not.toContain('hunter2');
      expect(body).not.toContain('db.internal');
      expect(body).not.toMatch(/at .*\.ts:\d+/u);
      const ref = /（参照番号: ([0-9a-f]{12})）|\(reference: ([0-9a-f]{12})\)/u.exec(body);
      const id = ref?.[1] ?? ref?.[2];
      expect(id).toBeDefined();
      expect(t.logs()).toContain(`"ref":"${id}"`);
    }
    expect(t.logs()).toContain('db.internal'); // the operator can find out what happened
    const api = await t.request('/api/_boom');
    expect(api.status).toBe(500);
    const json = (await api.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ error: 'internal' });
    expect(JSON.stringify(json)).not.toContain('hunter2');
  });

  it('refuses a body over the limit before reading it', async () => {
    const session = await t.login('viewer');
    const res = await t.request('/account/tokens', {
      as: session,
      form: { name: 'x'.repeat(6 * 1024 * 1024) },
    });
    expect(res.status).toBe(413);
    expect(await t.repos.apiTokens.list(session.user.id)).toEqual([]);
  });
});

describe('/healthz and /metrics', () => {
  it('reports PostgreSQL and Redis', async () => {
    const res = await t.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: true, redis: true });
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('answers 503 when either is down (or the check itself fails)', async () => {
    const down = await createTestApp({ health: async () => ({ db: true, redis: false }) });
    const broken = await createTestApp({
      health: async () => {
        throw new Error('boom');
      },
    });
    try {
      const res = await down.request('/healthz');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', db: true, redis: false });
      expect((await broken.request('/healthz')).status).toBe(503);
    } finally {
      await down.close();
      await broken.close();
    }
  });

  it('serves Prometheus metrics with requests counted by route pattern', async () => {
    const session = await t.login('admin');
    await t.request(`/users/${session.user.id}/role`, { as: session, form: { role: 'admin' } });
    const res = await t.request('/metrics', { as: session });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/u);
    const text = await res.text();
    expect(text).toMatch(/kikimimi_http_requests_total\{method="GET",route="\/login",status="200"\} \d+/u);
    expect(text).toMatch(
      /kikimimi_http_requests_total\{method="POST",route="\/users\/:id\/role",status="303"\}/u,
    );
    expect(text).toMatch(/kikimimi_http_requests_total\{method="GET",route="\(unmatched\)",status="404"\}/u);
    expect(text).toContain('kikimimi_http_request_duration_seconds_bucket');
    expect(text).not.toContain(session.user.id);
  });
});

describe('secrets', () => {
  it('never puts a password, session token or API token into a page or the log', async () => {
    const seen: string[] = [];
    const grab = async (res: Response | Promise<Response>) => {
      const r = await res;
      seen.push(
        `${r.status} ${[...r.headers].filter(([k]) => k !== 'set-cookie').join(' ')}\n${await r.text()}`,
      );
      return r;
    };
    const user = await t.createUser('admin', { password: 'my secret passphrase 77' });
    const browser = t.browser();
    await browser.request('/login');
    await browser.request('/login', {
      form: { username: user.username, password: 'wrong secret passphrase' },
    });
    const signedIn = await browser.request('/login', {
      form: { username: user.username, password: 'my secret passphrase 77' },
    });
    seen.push(signedIn.text);
    const sessionToken = browser.cookies.get('kk_session') as string;
    for (const path of ['/account', '/users', '/api/me', '/', '/nope'])
      seen.push((await browser.request(path)).text);
    const created = await browser.request('/account/tokens', { form: { name: 'ci' } });
    const apiToken = /value="(kk_[^"]+)"/u.exec(created.text)?.[1] as string;
    expect(apiToken).toBeDefined();
    seen.push((await browser.request('/account')).text);
    await grab(t.app.request('/api/me', { headers: { Authorization: `Bearer ${apiToken}` } }));
    await grab(t.app.request('/api/nope', { headers: { Authorization: `Bearer ${apiToken}` } }));
    const changed = await browser.request('/account/password', {
      form: {
        current: 'my secret passphrase 77',
        password: 'next secret passphrase 88',
        confirm: 'typo passphrase 88!',
      },
    });
    seen.push(changed.text);
    await browser.request('/users', {
      form: {
        username: 'newbie',
        password: 'newbie secret phrase',
        confirm: 'newbie secret phrase',
        role: 'viewer',
      },
    });
    seen.push((await browser.request('/users?done=created')).text);

    const everything = `${seen.join('\n')}\n${t.logs()}`;
    for (const secret of [
      'my secret passphrase 77',
      'wrong secret passphrase',
      'next secret passphrase 88',
      'typo passphrase 88!',
      'newbie secret phrase',
      TEST_PASSWORD,
      sessionToken,
      apiToken,
    ]) {
      expect(everything).not.toContain(secret);
    }
    // And the audit log (shown to users on /audit) has none of them either.
    const audit = JSON.stringify(await t.repos.audit.list({ limit: 1000 }));
    for (const secret of ['my secret passphrase 77', 'newbie secret phrase', sessionToken, apiToken]) {
      expect(audit).not.toContain(secret);
    }
  });
});
