import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/* Issue 14 items 1, 2, 4 and 5: signed-out bodies, sign-in throttling, tokens and sessions. */

/** A request from this socket address (what the Node server gives the app as its connection). */
const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

describe('signed-out visitors cannot make the console read big bodies (item 1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 413 to a 1 MB form sent to /login or /setup without reading it', async () => {
    const big = `username=a&password=${'x'.repeat(1024 * 1024)}`;
    for (const path of ['/login', '/setup']) {
      const res = await t.app.request(path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': String(big.length),
        },
        body: big,
      });
      expect(res.status).toBe(413);
    }
  });

  it('stops reading a streamed body without a length after the small limit', async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(`a=${'x'.repeat(16 * 1024)}`);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.length;
        if (pulled > 8 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(512 * 1024);
  });

  it('refuses a cross-site form before reading it', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new TextEncoder().encode('a=b&'));
        if (pulled > 1000) controller.close();
      },
    });
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Sec-Fetch-Site': 'cross-site' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(403);
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it('still signs a person in with a normal form', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser();
    await browser.request('/login');
    const res = await browser.request('/login', {
      form: { username: user.username, password: user.password },
    });
    expect(res.status).toBe(303);
  });
});

describe('sign-in throttling locks out nobody innocent (item 2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ deps: { trustedProxies: ['10.0.0.0/8', '::1'] } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('does not count successful sign-ins', async () => {
    const user = await t.createUser('admin');
    const browser = t.browser(from('198.51.100.20'));
    await browser.request('/login');
    for (let i = 0; i < 105; i++) {
      const res = await browser.request('/login', {
        form: { username: user.username, password: user.password },
      });
      expect(res.status, `sign-in ${i + 1}`).toBe(303);
      await browser.request('/logout', { form: {} });
      await browser.request('/login');
    }
  });

  it('behind a trusted proxy, holds back the client that failed, not everyone behind the proxy', async () => {
    const user = await t.createUser('admin');
    const attacker = t.browser(from('10.0.0.2'));
    await attacker.request('/login', { headers: { 'X-Forwarded-For': '198.51.100.66' } });
    for (let i = 0; i < 6; i++) {
      await attacker.request('/login', {
        form: { username: user.username, password: `guess ${i}` },
        headers: { 'X-Forwarded-For': '198.51.100.66' },
      });
    }
    const held = await attacker.request('/login', {
      form: { username: user.username, password: user.password },
      headers: { 'X-Forwarded-For': '198.51.100.66' },
    });
    expect(held.status).toBe(429);
    const victim = t.browser(from('10.0.0.2'));
    await victim.request('/login', { headers: { 'X-Forwarded-For': '203.0.113.5' } });
    const ok = await victim.request('/login', {
      form: { username: user.username, password: user.password },
      headers: { 'X-Forwarded-For': '203.0.113.5, 10.0.0.7' },
    });
    expect(ok.status).toBe(303);
    const [failed] = await t.repos.audit.list({ limit: 1, action: 'user.login_failed' });
    expect(failed?.detail.ip).toBe('198.51.100.66');
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    const user = await t.createUser('editor');
    const browser = t.browser(from('192.0.2.99'));
    await browser.request('/login');
    for (let i = 0; i < 5; i++) {
      const res = await browser.request('/login', {
        form: { username: user.username, password: `guess ${i}` },
        headers: { 'X-Forwarded-For': `203.0.113.${i + 1}` },
      });
      expect(res.status).toBe(401);
    }
    const held = await browser.request('/login', {
      form: { username: user.username, password: user.password },
      headers: { 'X-Forwarded-For': '203.0.113.200' },
    });
    expect(held.status).toBe(429);
  });
});

describe('API tokens (item 4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });
  const me = (token: string) => t.app.request('/api/me', { headers: { Authorization: `Bearer ${token}` } });

  it('an admin password reset revokes the user’s API tokens', async () => {
    const user = await t.createUser('editor');
    const { token } = await t.repos.apiTokens.create(user.id, 'script', {
      kind: 'system',
      id: 't',
      name: 't',
    });
    expect((await me(token)).status).toBe(200);
    const res = await t.request(`/users/${user.id}/password`, {
      as: 'admin',
      form: { password: 'a brand new passphrase 42', confirm: 'a brand new passphrase 42' },
    });
    expect(res.status).toBe(303);
    expect((await me(token)).status).toBe(401);
  });

  it('changing one’s own password revokes one’s API tokens', async () => {
    const session = await t.login('viewer');
    const { token } = await t.repos.apiTokens.create(session.user.id, 'script', {
      kind: 'system',
      id: 't',
      name: 't',
    });
    const res = await t.request('/account/password', {
      as: session,
      form: {
        current: session.user.password,
        password: 'another fine passphrase 7',
        confirm: 'another fine passphrase 7',
      },
    });
    expect(res.status).toBe(303);
    expect((await me(token)).status).toBe(401);
  });

  it('an admin revokes another user’s token; others cannot', async () => {
    const user = await t.createUser('editor');
    const { token, record } = await t.repos.apiTokens.create(user.id, 'ci', {
      kind: 'system',
      id: 't',
      name: 't',
    });
    const byEditor = await t.request(`/account/tokens/${record.id}/revoke`, { as: 'editor', form: {} });
    expect(byEditor.status).toBe(404);
    expect((await me(token)).status).toBe(200);
    const users = await (await t.request('/users', { as: 'admin' })).text();
    expect(users).toContain(`/account/tokens/${record.id}/revoke`);
    const byAdmin = await t.request(`/account/tokens/${record.id}/revoke`, { as: 'admin', form: {} });
    expect(byAdmin.status).toBe(303);
    expect((await me(token)).status).toBe(401);
  });
});

describe('sessions: absolute lifetime and a fresh password for sensitive pages (item 5)', () => {
  let t: TestApp;
  let clock = new Date('2026-11-01T00:00:00Z');
  beforeAll(async () => {
    t = await createTestApp({ now: () => clock, deps: { sessionMaxAgeSeconds: 48 * 3600 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('ends a session at its absolute lifetime even while it is used', async () => {
    const session = await t.login('viewer');
    for (let hours = 11; hours <= 44; hours += 11) {
      clock = new Date(clock.getTime() + 11 * 3600_000);
      expect((await t.request('/inbox', { as: session })).status, `after ${hours} h`).toBe(200);
    }
    clock = new Date(clock.getTime() + 5 * 3600_000);
    const late = await t.request('/inbox', { as: session });
    expect(late.status).toBe(303);
    expect(late.headers.get('location')).toMatch(/^\/login/u);
  });

  it('asks for the password again before user administration and platform credentials', async () => {
    const session = await t.login('admin');
    clock = new Date(clock.getTime() + 20 * 60_000);
    const users = await t.request('/users', { as: session });
    expect(users.status).toBe(303);
    expect(users.headers.get('location')).toBe('/reauth?next=%2Fusers');
    const reset = await t.request(`/users/${session.user.id}/password`, {
      as: session,
      form: { password: 'a brand new passphrase 42', confirm: 'a brand new passphrase 42' },
    });
    expect(reset.status).toBe(303);
    expect(reset.headers.get('location')).toMatch(/^\/reauth/u);
    const connect = await t.request('/platforms/mastodon', {
      as: session,
      form: { url: 'https://m.example' },
    });
    expect(connect.status).toBe(303);
    expect(connect.headers.get('location')).toMatch(/^\/reauth/u);
    const api = await t.request('/api/accounts', { as: session, json: { platform: 'mastodon' } });
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: 'reauth' });

    const wrong = await t.request('/reauth', { as: session, form: { password: 'not it', next: '/users' } });
    expect(wrong.status).toBe(401);
    const confirmed = await t.request('/reauth', {
      as: session,
      form: { password: session.user.password, next: '/users' },
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe('/users');
    const cookie = confirmed.headers
      .getSetCookie()
      .find((c) => c.startsWith('kk_session='))
      ?.split(';')[0];
    expect(cookie).toBeDefined();
    const again = await t.app.request('/users', { headers: { Cookie: cookie ?? '' } });
    expect(again.status).toBe(200);
  });
});

describe('weak passwords are refused (item 6)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(['password1234', 'aaaaaaaaaaaa', 'qwertyuiop123', 'iloveyou2024!', '123456789012'])(
    'refuses %s for a new user, next to the field, in the user’s language',
    async (password) => {
      const res = await t.request('/users?lang=en', {
        as: 'admin',
        form: {
          username: `weak-${password.length}-${Math.random().toString(36).slice(2, 8)}`,
          password,
          confirm: password,
          role: 'viewer',
        },
      });
      expect(res.status).toBe(422);
      const body = await res.text();
      expect(body).toMatch(/data-field="password">This password is too easy to guess/u);
      expect(body).not.toContain(password);
    },
  );

  it('refuses a password made of the username, and explains in Japanese', async () => {
    const res = await t.request('/users', {
      as: 'admin',
      form: {
        username: 'hanako.yamada',
        password: 'hanako.yamada1',
        confirm: 'hanako.yamada1',
        role: 'viewer',
      },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('推測されやすいパスワードです');
  });

  it('refuses a weak password on a password change, accepts a passphrase', async () => {
    const session = await t.login('editor');
    const weak = await t.request('/account/password', {
      as: session,
      form: { current: session.user.password, password: 'password1234', confirm: 'password1234' },
    });
    expect(weak.status).toBe(422);
    const strong = await t.request('/account/password', {
      as: session,
      form: {
        current: session.user.password,
        password: 'correct horse battery staple',
        confirm: 'correct horse battery staple',
      },
    });
    expect(strong.status).toBe(303);
  });
});
