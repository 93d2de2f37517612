import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenFor } from '../src/auth/session.ts';
import { createTestApp, csrfOf, TEST_PASSWORD, type TestApp } from './harness.ts';

/** Sign-in from this address (what the Node server gives the app as its connection). */
const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

const SETUP_PASSWORD = 'the very first admin password';

describe('first-time setup', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sends everyone to /setup while nobody exists', async () => {
    const root = await t.request('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/setup');
    const login = await t.request('/login');
    expect(login.headers.get('location')).toBe('/setup');
    const setup = await t.browser().request('/setup');
    expect(setup.status).toBe(200);
    expect(setup.text).toContain('name="_csrf"');
    expect(setup.headers.get('set-cookie')).toMatch(/kk_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Lax/u);
  });

  it('refuses a setup without, or with a wrong, CSRF token', async () => {
    const browser = t.browser();
    await browser.request('/setup');
    const form = { username: 'root', password: SETUP_PASSWORD, confirm: SETUP_PASSWORD };
    expect((await browser.request('/setup', { form, csrf: false })).status).toBe(403);
    expect((await browser.request('/setup', { form, csrf: 'x'.repeat(43) })).status).toBe(403);
    // A token valid for another browser's cookie is no good with this one.
    const other = t.browser();
    await other.request('/setup');
    const refused = await browser.request('/setup', { form, csrf: other.csrf });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('リクエストを確認できません');
    expect(await t.repos.users.count()).toBe(0);
  });

  it('shows each problem next to its field and saves nothing; the password is never sent back', async () => {
    const browser = t.browser();
    await browser.request('/setup?lang=en');
    const short = await browser.request('/setup', {
      form: { username: 'bad name!', password: 'short-pw-1', confirm: 'short-pw-1' },
    });
    expect(short.status).toBe(422);
    expect(short.text).toMatch(/data-field="username">Letters, digits/u);
    expect(short.text).toMatch(/data-field="password">The password needs at least 12 characters/u);
    expect(short.text).toContain('value="bad name!"');
    expect(short.text).not.toContain('short-pw-1');
    const mismatch = await browser.request('/setup', {
      form: { username: 'root', password: SETUP_PASSWORD, confirm: `${SETUP_PASSWORD}?` },
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.text).toMatch(/data-field="confirm">The passwords do not match/u);
    expect(mismatch.text).not.toContain(SETUP_PASSWORD);
    const empty = await browser.request('/setup', { form: { username: ' ', password: '', confirm: '' } });
    expect(empty.text).toMatch(/data-field="username">Enter a username/u);
    expect(await t.repos.users.count()).toBe(0);
  });

  it('creates the first admin, signs them in, and then disappears', async () => {
    const browser = t.browser();
    await browser.request('/setup');
    // The page reads the browser's time zone into the form (its script runs under the CSP nonce).
    const form = await browser.request('/setup');
    expect(form.text).toMatch(/<input type="hidden" name="timeZone" id="f-timeZone" value="">/u);
    expect(form.text).toMatch(/<script nonce="[^"]+">[^<]*resolvedOptions\(\)\.timeZone/u);
    const done = await browser.request('/setup', {
      form: {
        username: ' Root ',
        password: SETUP_PASSWORD,
        confirm: SETUP_PASSWORD,
        timeZone: 'America/New_York',
      },
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/');
    const [user] = await t.repos.users.list();
    expect(user).toMatchObject({ username: 'Root', role: 'admin' });
    // The organisation's clock starts as the first admin's browser's.
    expect((await t.repos.config.current()).config.organization.timeZone).toBe('America/New_York');
    // Signed in by the setup: that is their first sign-in, not "none".
    expect(user?.lastLoginAt).toBeInstanceOf(Date);
    const users = await browser.request('/users');
    expect(users.text).not.toMatch(/<td>なし<\/td>/u);
    expect(browser.cookies.get('kk_session')).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect((await browser.request('/')).location).toBe('/inbox');
    const me = await browser.request('/api/me');
    expect(JSON.parse(me.text)).toMatchObject({ username: 'Root', role: 'admin', auth: 'session' });

    // Gone for everyone, signed in or not; a late POST creates nobody.
    expect((await browser.request('/setup')).location).toBe('/');
    const stranger = t.browser();
    const page = await stranger.request('/setup');
    expect(page.status).toBe(302);
    expect(page.location).toBe('/login');
    await stranger.request('/login');
    const late = await stranger.request('/setup', {
      form: { username: 'intruder', password: SETUP_PASSWORD, confirm: SETUP_PASSWORD },
    });
    expect(late.status).toBe(303);
    expect(late.location).toBe('/login');
    expect(await t.repos.users.count()).toBe(1);
    expect((await t.request('/')).headers.get('location')).toBe('/inbox');
  });
});

describe('sign-in and sign-out', () => {
  let t: TestApp;
  let clock = new Date('2026-11-24T09:00:00Z');
  beforeAll(async () => {
    t = await createTestApp({ now: () => clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in with the right password (any case of the username) and goes to `next`', async () => {
    const user = await t.createUser('editor', { username: 'Hanako' });
    const browser = t.browser();
    const page = await browser.request('/login?next=/watches%3Fq%3D1');
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="next" value="/watches?q=1"');
    const res = await browser.request('/login', {
      form: { username: 'hanako', password: user.password, next: '/watches?q=1' },
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/watches?q=1');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('kk_session='));
    expect(cookie).toMatch(/^kk_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/u);
    expect(JSON.parse((await browser.request('/api/me')).text)).toMatchObject({
      id: user.id,
      role: 'editor',
    });
    // Already signed in: the login page moves on.
    expect((await browser.request('/login')).location).toBe('/');
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.login' });
    expect(entry?.target).toBe(user.id);
  });

  it('never redirects to another site after signing in', async () => {
    const user = await t.createUser('viewer');
    for (const next of [
      '//evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const browser = t.browser();
      await browser.request('/login');
      const res = await browser.request('/login', {
        form: { username: user.username, password: user.password, next },
      });
      expect(res.location).toBe('/');
    }
  });

  it('says the same for a wrong password and an unknown user, and signs nobody in', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser();
    await browser.request('/login?lang=en');
    const wrong = await browser.request('/login', {
      form: { username: user.username, password: 'not the password' },
    });
    const unknown = await browser.request('/login', {
      form: { username: 'nobody-here', password: 'not the password' },
    });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.text).toContain('The username or password is wrong.');
      expect(res.text).not.toContain('not the password');
      expect(res.headers.getSetCookie().some((c) => c.startsWith('kk_session='))).toBe(false);
    }
    const normal = (text: string, name: string) =>
      text.replace(name, 'X').replace(/(value|nonce)="[^"]*"/gu, '');
    expect(normal(wrong.text, user.username)).toBe(normal(unknown.text, 'nobody-here'));
    expect(browser.cookies.has('kk_session')).toBe(false);
    expect(
      (await t.repos.audit.list({ limit: 5, action: 'user.login_failed' })).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('allows 5 failures per 15 minutes per address and username, then answers 429 (even to the right password)', async () => {
    const user = await t.createUser('editor');
    const browser = t.browser(from('198.51.100.7'));
    await browser.request('/login');
    for (let i = 0; i < 5; i++) {
      const res = await browser.request('/login', {
        form: { username: user.username, password: `wrong ${i}` },
      });
      expect(res.status).toBe(401);
    }
    const limited = await browser.request('/login', {
      form: { username: user.username, password: user.password },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('900');
    expect(limited.text).toContain('サインインの失敗が続いたため');
    expect(browser.cookies.has('kk_session')).toBe(false);

    // Another address, or another username from this one, is not held back.
    const elsewhere = t.browser(from('203.0.113.9'));
    await elsewhere.request('/login');
    expect(
      (await elsewhere.request('/login', { form: { username: user.username, password: user.password } }))
        .status,
    ).toBe(303);
    const colleague = await t.createUser('viewer');
    expect(
      (
        await browser.request('/login', {
          form: { username: colleague.username, password: colleague.password },
        })
      ).status,
    ).toBe(303);

    // 15 minutes later the window is over.
    clock = new Date(clock.getTime() + 15 * 60_000 + 1000);
    const again = t.browser(from('198.51.100.7'));
    await again.request('/login');
    expect(
      (await again.request('/login', { form: { username: user.username, password: user.password } })).status,
    ).toBe(303);
  });

  it('forgets earlier failures after a successful sign-in', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser(from('192.0.2.44'));
    await browser.request('/login');
    for (let i = 0; i < 4; i++)
      await browser.request('/login', { form: { username: user.username, password: 'nope' } });
    expect(
      (await browser.request('/login', { form: { username: user.username, password: user.password } }))
        .status,
    ).toBe(303);
    const next = t.browser(from('192.0.2.44'));
    await next.request('/login');
    for (let i = 0; i < 5; i++) {
      expect(
        (await next.request('/login', { form: { username: user.username, password: 'nope' } })).status,
      ).toBe(401);
    }
  });

  it('refuses a sign-in without CSRF token, with a cross-site Origin, or from a cross-site fetch', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser();
    await browser.request('/login');
    const form = { username: user.username, password: user.password };
    expect((await browser.request('/login', { form, csrf: false })).status).toBe(403);
    expect(
      (await browser.request('/login', { form, headers: { Origin: 'https://evil.example' } })).status,
    ).toBe(403);
    expect(
      (await browser.request('/login', { form, headers: { 'Sec-Fetch-Site': 'cross-site' } })).status,
    ).toBe(403);
    expect(
      (await browser.request('/login', { form, headers: { 'Sec-Fetch-Site': 'same-site' } })).status,
    ).toBe(403);
    expect(browser.cookies.has('kk_session')).toBe(false);
    // Our own origin, as browsers send it, is fine.
    const ok = await browser.request('/login', {
      form,
      headers: { Origin: 'http://localhost', 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(ok.status).toBe(303);
  });

  it('gives a new session at each sign-in (a planted session id is worthless)', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser();
    const planted = 'A'.repeat(43);
    browser.cookies.set('kk_session', planted);
    const page = await browser.request('/login');
    expect(page.status).toBe(200);
    expect(browser.cookies.has('kk_session')).toBe(false); // unknown session: cookie cleared
    browser.cookies.set('kk_session', planted);
    await browser.request('/login', { form: { username: user.username, password: user.password } });
    const first = browser.cookies.get('kk_session');
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(first).not.toBe(planted);
    expect(await t.repos.sessions.get(planted)).toBeNull();
    const other = t.browser();
    await other.request('/login');
    await other.request('/login', { form: { username: user.username, password: user.password } });
    expect(other.cookies.get('kk_session')).not.toBe(first);
  });

  it('signs out with POST only, ending the session for good', async () => {
    const session = await t.login('editor');
    const logoutGet = await t.request('/logout', { as: session });
    expect(logoutGet.status).toBe(404);
    expect((await t.request('/logout', { as: session, form: {}, csrf: false })).status).toBe(403);
    expect((await t.request('/api/me', { as: session })).status).toBe(200);
    const res = await t.request('/logout', { as: session, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect(res.headers.getSetCookie().find((c) => c.startsWith('kk_session='))).toMatch(
      /^kk_session=; Max-Age=0/u,
    );
    const after = await t.request('/account', { as: session });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/login?next=%2Faccount');
    expect((await t.request('/api/me', { as: session })).status).toBe(401);
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.logout' });
    expect(entry?.target).toBe(session.user.id);
  });

  it('sends a form posted after the session ended to the login page', async () => {
    const session = await t.login('editor');
    await t.repos.sessions.destroyAll(session.user.id);
    const res = await t.request('/account/tokens', { as: session, form: { name: 'late' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('expires a session 12 hours after its last use, and slides while in use', async () => {
    const session = await t.login('viewer');
    const hours = (h: number) => {
      clock = new Date(clock.getTime() + h * 3600_000);
    };
    hours(11);
    const renewed = await t.request('/api/me', { as: session });
    expect(renewed.status).toBe(200);
    // Sliding: the cookie is sent again with a fresh 12-hour life.
    expect(renewed.headers.getSetCookie().find((c) => c.startsWith('kk_session='))).toMatch(/Max-Age=43200/u);
    hours(11);
    expect((await t.request('/api/me', { as: session })).status).toBe(200);
    hours(12.01);
    const expired = await t.request('/account', { as: session });
    expect(expired.status).toBe(303);
    expect(expired.headers.getSetCookie().find((c) => c.startsWith('kk_session='))).toMatch(
      /^kk_session=; Max-Age=0/u,
    );
  });
});

describe('cookies behind HTTPS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ secureCookies: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('marks every cookie Secure and sends HSTS', async () => {
    const user = await t.createUser('viewer');
    const browser = t.browser();
    const page = await browser.request('/login?lang=en');
    for (const cookie of page.headers.getSetCookie()) expect(cookie).toMatch(/; Secure/u);
    expect(page.headers.get('strict-transport-security')).toMatch(/max-age=\d+/u);
    const res = await browser.request('/login', {
      form: { username: user.username, password: user.password },
    });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('kk_session='));
    expect(session).toMatch(/; HttpOnly/u);
    expect(session).toMatch(/; Secure/u);
    expect(session).toMatch(/; SameSite=Lax/u);
  });

  it('leaves Secure off (and HSTS) for local http by default', async () => {
    const local = await createTestApp();
    try {
      const page = await local.browser().request('/login');
      expect(page.headers.getSetCookie().join('\n')).not.toMatch(/Secure/u);
      expect(page.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await local.close();
    }
  });
});

describe('CSRF tokens', () => {
  it('are an HMAC of the secret: stable for a session, different between sessions', () => {
    expect(csrfTokenFor('a')).toBe(csrfTokenFor('a'));
    expect(csrfTokenFor('a')).not.toBe(csrfTokenFor('b'));
    expect(csrfTokenFor('a')).not.toContain('a'.repeat(3));
  });

  it('are on every form of a signed-in page, and the logout form', async () => {
    const t = await createTestApp();
    try {
      const session = await t.login('admin');
      const res = await t.request('/users', { as: session });
      const body = await res.text();
      const forms = body.match(/<form[^>]*method="post"[^>]*>/gu) ?? [];
      const tokens = body.match(/name="_csrf" value="([^"]+)"/gu) ?? [];
      expect(forms.length).toBeGreaterThan(3);
      expect(tokens).toHaveLength(forms.length);
      expect(csrfOf(body)).toBe(session.csrf);
      expect(TEST_PASSWORD).not.toBe('');
    } finally {
      await t.close();
    }
  });
});
