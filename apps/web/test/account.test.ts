import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRole } from '../src/auth/middleware.ts';
import { createTestApp, TEST_PASSWORD, type TestApp } from './harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    extend(app) {
      // Test-only routes: an API write (token requests need no CSRF), an admin-only API read.
      app.post('/api/_echo', requireRole('editor'), async (c) =>
        c.json({ got: await c.req.json(), by: c.get('user')?.username }),
      );
      app.get('/api/_admin', requireRole('admin'), (c) => c.json({ ok: true }));
    },
  });
});
afterAll(async () => {
  await t?.close();
});

const NEW_PASSWORD = 'a brand new password 42';

describe('/account: own password', () => {
  it('needs a signed-in user', async () => {
    const res = await t.request('/account');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Faccount');
    expect((await t.request('/account/password', { form: {}, csrf: false })).status).toBe(403);
  });

  it('refuses a change without the CSRF token', async () => {
    const session = await t.login('viewer');
    const form = { current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD };
    expect((await t.request('/account/password', { as: session, form, csrf: false })).status).toBe(403);
    expect((await t.request('/account/password', { as: session, form, csrf: 'forged' })).status).toBe(403);
    // Another session's token is no good either.
    const other = await t.login('viewer');
    expect((await t.request('/account/password', { as: session, form, csrf: other.csrf })).status).toBe(403);
    expect(await t.repos.users.verify(session.user.username, TEST_PASSWORD)).not.toBeNull();
  });

  it('shows problems next to the fields, in the user’s language, and changes nothing', async () => {
    const session = await t.login('viewer');
    const wrong = await t.request('/account/password?lang=en', {
      as: session,
      form: { current: 'not my password', password: NEW_PASSWORD, confirm: NEW_PASSWORD },
    });
    expect(wrong.status).toBe(422);
    const body = await wrong.text();
    expect(body).toMatch(/data-field="current">The current password is wrong/u);
    expect(body).not.toContain(NEW_PASSWORD);
    expect(body).not.toContain('not my password');
    const short = await t.request('/account/password', {
      as: session,
      form: { current: TEST_PASSWORD, password: 'short', confirm: 'short' },
      headers: { 'Accept-Language': 'ja' },
    });
    expect(await short.text()).toMatch(/data-field="password">パスワードは 12 文字以上/u);
    const mismatch = await t.request('/account/password', {
      as: session,
      form: { current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: 'something else entirely' },
    });
    expect(await mismatch.text()).toMatch(/data-field="confirm">/u);
    expect(await t.repos.users.verify(session.user.username, TEST_PASSWORD)).not.toBeNull();
  });

  it('changes the password, signs out other sessions and keeps this browser signed in', async () => {
    const session = await t.login('editor');
    const elsewhere = await t.repos.sessions.create(session.user.id, 3600);
    const res = await t.request('/account/password', {
      as: session,
      form: { current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?done=password');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('kk_session=')) as string;
    expect(cookie).toMatch(/HttpOnly/u);
    expect(await t.repos.sessions.get(elsewhere.token)).toBeNull();
    expect((await t.request('/api/me', { as: session })).status).toBe(401); // the old cookie too
    const fresh = cookie.split(';')[0] as string;
    const page = await t.app.request('/account?done=password', { headers: { Cookie: fresh } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('パスワードを変更しました');
    expect(await t.repos.users.verify(session.user.username, TEST_PASSWORD)).toBeNull();
    expect(await t.repos.users.verify(session.user.username, NEW_PASSWORD)).not.toBeNull();
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.password' });
    expect(entry?.target).toBe(session.user.id);
  });
});

describe('/account: API tokens', () => {
  it('creates a token shown once; the account page lists only its prefix', async () => {
    const session = await t.login('editor');
    const created = await t.request('/account/tokens', { as: session, form: { name: 'CI <deploy>' } });
    expect(created.status).toBe(200);
    const body = await created.text();
    const token = /value="(kk_[A-Za-z0-9_-]{43})"/u.exec(body)?.[1] as string;
    expect(token).toBeDefined();
    expect(body).toContain('CI &lt;deploy&gt;');
    expect(body).toContain('今だけ表示されます');
    const account = await (await t.request('/account', { as: session })).text();
    expect(account).not.toContain(token);
    expect(account).toContain(`${token.slice(0, 9)}…`);
    expect(account).toContain('CI &lt;deploy&gt;');
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'token.create' });
    expect(JSON.stringify(entry)).not.toContain(token);
  });

  it('refuses a bad name (next to the field) and a missing CSRF token', async () => {
    const session = await t.login('viewer');
    const bad = await t.request('/account/tokens', { as: session, form: { name: '   ' } });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/data-field="name">1〜100 文字/u);
    expect(
      (await t.request('/account/tokens', { as: session, form: { name: 'x' }, csrf: false })).status,
    ).toBe(403);
    expect(await t.repos.apiTokens.list(session.user.id)).toEqual([]);
  });

  it('authenticates /api/* with the token (no CSRF needed), with the user’s role', async () => {
    const token = await t.apiToken('editor');
    const me = await t.app.request('/api/me', { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'editor', auth: 'token' });
    const echo = await t.app.request('/api/_echo', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toMatchObject({ got: { hello: 'world' } });
    const admin = await t.app.request('/api/_admin', { headers: { Authorization: `Bearer ${token}` } });
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ error: 'forbidden' });
  });

  it('answers 401 to a wrong, malformed or missing token, never falling back to the cookie', async () => {
    const session = await t.login('admin');
    for (const header of ['Bearer kk_nope', 'Bearer', 'Basic abc', `Bearer kk_${'A'.repeat(43)}`]) {
      const res = await t.request('/api/me', { as: session, headers: { Authorization: header } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/u);
    }
    expect((await t.request('/api/me')).status).toBe(401);
  });

  it('does not take a token outside /api', async () => {
    const token = await t.apiToken('admin');
    const res = await t.app.request('/users', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(303);
  });

  it('needs the CSRF header for a session (cookie) request to the API', async () => {
    const session = await t.login('editor');
    expect((await t.request('/api/_echo', { as: session, json: { a: 1 }, csrf: false })).status).toBe(403);
    const ok = await t.request('/api/_echo', { as: session, json: { a: 1 } });
    expect(ok.status).toBe(200);
  });

  it('revokes a token: it stops working at once; another user cannot revoke it', async () => {
    const session = await t.login('editor');
    await t.request('/account/tokens', { as: session, form: { name: 'temp' } });
    const [record] = await t.repos.apiTokens.list(session.user.id);
    const { token } = await t.repos.apiTokens.create(session.user.id, 'second', {
      kind: 'web',
      id: session.user.id,
      name: session.user.username,
    });
    const second = (await t.repos.apiTokens.list(session.user.id)).find((r) => r.name === 'second');
    // Another user (not an admin: admins revoke anyone's token, see security-auth.test.ts) cannot.
    const stranger = await t.login('editor');
    const theirs = await t.request(`/account/tokens/${second?.id}/revoke`, { as: stranger, form: {} });
    expect(theirs.status).toBe(404);
    expect((await t.app.request('/api/me', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );

    expect(
      (await t.request(`/account/tokens/${second?.id}/revoke`, { as: session, form: {}, csrf: false }))
        .status,
    ).toBe(403);
    const res = await t.request(`/account/tokens/${second?.id}/revoke`, { as: session, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?done=revoked');
    expect((await t.app.request('/api/me', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
    const page = await (await t.request('/account?done=revoked', { as: session })).text();
    expect(page).toContain('トークンを失効させました');
    expect(page).toContain('失効済み');
    expect(record?.revokedAt).toBeNull();
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'token.revoke' });
    expect(entry?.target).toBe(second?.id);
  });

  it('stops a token of a removed user, and follows a role change at once', async () => {
    const user = await t.createUser('editor');
    const { token } = await t.repos.apiTokens.create(user.id, 'x', { kind: 'system', id: 't', name: 't' });
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    await t.repos.users.setRole(user.id, 'viewer', { kind: 'system', id: 't', name: 't' });
    expect(await (await t.app.request('/api/me', auth)).json()).toMatchObject({ role: 'viewer' });
    await t.repos.users.remove(user.id, { kind: 'system', id: 't', name: 't' });
    expect((await t.app.request('/api/me', auth)).status).toBe(401);
  });
});
