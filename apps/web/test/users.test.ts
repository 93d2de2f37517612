import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestSession } from './harness.ts';

let t: TestApp;
let admin: TestSession;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.login('admin');
});
afterAll(async () => {
  await t?.close();
});

const PASSWORD = 'a good long password';
const newUser = (username: string, role = 'viewer') => ({
  username,
  password: PASSWORD,
  confirm: PASSWORD,
  role,
});

describe('/users: who may', () => {
  it('sends a signed-out visitor to the login and refuses editors and viewers', async () => {
    const out = await t.request('/users');
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login?next=%2Fusers');
    for (const role of ['viewer', 'editor'] as const) {
      const page = await t.request('/users', { as: role });
      expect(page.status).toBe(403);
      expect(await page.text()).toContain('権限がありません');
      // With a valid CSRF token, a change is still refused by role.
      expect((await t.request('/users', { as: role, form: newUser(`by-${role}`) })).status).toBe(403);
    }
    const target = await t.createUser('viewer');
    for (const action of ['role', 'remove', 'password']) {
      const res = await t.request(`/users/${target.id}/${action}`, {
        as: 'editor',
        form: { role: 'admin', password: PASSWORD, confirm: PASSWORD },
      });
      expect(res.status).toBe(403);
    }
    expect((await t.repos.users.get(target.id))?.role).toBe('viewer');
    expect((await t.repos.users.list()).some((u) => u.username.startsWith('by-'))).toBe(false);
  });

  it('refuses every change without the CSRF token', async () => {
    const target = await t.createUser('viewer');
    const cases: [string, Record<string, string>][] = [
      ['/users', newUser('nocsrf')],
      [`/users/${target.id}/role`, { role: 'admin' }],
      [`/users/${target.id}/password`, { password: PASSWORD, confirm: PASSWORD }],
      [`/users/${target.id}/remove`, {}],
    ];
    for (const [path, form] of cases) {
      expect((await t.request(path, { as: admin, form, csrf: false })).status).toBe(403);
      expect((await t.request(path, { as: admin, form, csrf: 'nope' })).status).toBe(403);
    }
    expect((await t.repos.users.get(target.id))?.role).toBe('viewer');
    expect(await t.repos.users.verify(target.username, PASSWORD)).toBeNull();
    expect((await t.repos.users.list()).some((u) => u.username === 'nocsrf')).toBe(false);
  });
});

describe('/users: an admin', () => {
  it('lists users with their roles', async () => {
    const res = await t.request('/users', { as: admin });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain(admin.user.username);
    expect(body).toContain('（あなた）');
    expect(body).not.toContain('scrypt');
    // Removing asks first (a little script under the page's CSP nonce); without JavaScript it just posts.
    const nonce = /'nonce-([^']+)'/u.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    expect(body).toContain(`<script nonce="${nonce}">`);
    expect(body).toMatch(/action="\/users\/[^"]+\/remove" data-confirm="[^"]+を削除しますか/u);
  });

  it('adds a user with a role; problems appear next to the fields and nothing is saved', async () => {
    const bad = await t.request('/users?lang=en', {
      as: admin,
      form: { username: '', password: 'short', confirm: 'short', role: 'root' },
    });
    expect(bad.status).toBe(422);
    const body = await bad.text();
    expect(body).toMatch(/data-field="username">Enter a username/u);
    expect(body).toMatch(/data-field="password">The password needs at least 12/u);
    expect(body).toMatch(/data-field="role">Choose a role/u);
    const before = (await t.repos.users.list()).length;

    const ok = await t.request('/users', { as: admin, form: newUser('Satoshi', 'editor') });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/users?done=created');
    expect((await t.repos.users.list()).length).toBe(before + 1);
    const created = (await t.repos.users.list()).find((u) => u.username === 'Satoshi');
    expect(created?.role).toBe('editor');
    expect(await t.repos.users.verify('satoshi', PASSWORD)).not.toBeNull();

    const dup = await t.request('/users?lang=en', { as: admin, form: newUser('SATOSHI') });
    expect(dup.status).toBe(409);
    expect(await dup.text()).toMatch(/data-field="username">This username is taken/u);
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.create' });
    expect(entry).toMatchObject({
      actor: { kind: 'web', id: admin.user.id },
      detail: { username: 'Satoshi' },
    });
  });

  it('changes a role, which applies to that user’s open session at once', async () => {
    const session = await t.login('viewer');
    expect((await t.request('/users', { as: session })).status).toBe(403);
    const res = await t.request(`/users/${session.user.id}/role`, { as: admin, form: { role: 'admin' } });
    expect(res.status).toBe(303);
    expect((await t.request('/users', { as: session })).status).toBe(200);
    const bad = await t.request(`/users/${session.user.id}/role`, { as: admin, form: { role: 'owner' } });
    expect(bad.status).toBe(422);
    const missing = await t.request('/users/00000000-0000-4000-8000-000000000000/role', {
      as: admin,
      form: { role: 'viewer' },
    });
    expect(missing.status).toBe(404);
    await t.request(`/users/${session.user.id}/role`, { as: admin, form: { role: 'viewer' } });
  });

  it('resets a password and signs that user out everywhere', async () => {
    const session = await t.login('editor');
    const short = await t.request(`/users/${session.user.id}/password`, {
      as: admin,
      form: { password: 'short', confirm: 'short' },
    });
    expect(short.status).toBe(422);
    expect((await t.request('/api/me', { as: session })).status).toBe(200);
    const res = await t.request(`/users/${session.user.id}/password`, {
      as: admin,
      form: { password: PASSWORD, confirm: PASSWORD },
    });
    expect(res.status).toBe(303);
    expect((await t.request('/api/me', { as: session })).status).toBe(401);
    expect(await t.repos.users.verify(session.user.username, PASSWORD)).not.toBeNull();
  });

  it('removes a user (their sessions end)', async () => {
    const session = await t.login('viewer');
    const res = await t.request(`/users/${session.user.id}/remove`, { as: admin, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/users?done=removed');
    expect(await t.repos.users.get(session.user.id)).toBeNull();
    expect((await t.request('/api/me', { as: session })).status).toBe(401);
    const again = await t.request(`/users/${session.user.id}/remove`, { as: admin, form: {} });
    expect(again.status).toBe(404);
  });

  it('never removes or demotes the last admin', async () => {
    // Leave exactly one admin.
    for (const user of await t.repos.users.list()) {
      if (user.role === 'admin' && user.id !== admin.user.id) {
        await t.repos.users.setRole(user.id, 'viewer', { kind: 'system', id: 't', name: 't' });
      }
    }
    const demote = await t.request(`/users/${admin.user.id}/role?lang=en`, {
      as: admin,
      form: { role: 'editor' },
    });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toContain('The last admin can be neither removed nor demoted');
    const remove = await t.request(`/users/${admin.user.id}/remove`, { as: admin, form: {} });
    expect(remove.status).toBe(409);
    expect((await t.repos.users.get(admin.user.id))?.role).toBe('admin');
  });

  it('may demote or remove itself while another admin exists', async () => {
    const me = await t.login('admin');
    const demoted = await t.request(`/users/${me.user.id}/role`, { as: me, form: { role: 'viewer' } });
    expect(demoted.status).toBe(303);
    expect(demoted.headers.get('location')).toBe('/');
    const other = await t.login('admin');
    const removed = await t.request(`/users/${other.user.id}/remove`, { as: other, form: {} });
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toBe('/login');
    expect(removed.headers.getSetCookie().find((c) => c.startsWith('kk_session='))).toMatch(/Max-Age=0/u);
  });
});

describe('/admin/queues (bull-board)', () => {
  it('is for admins only', async () => {
    expect((await t.request('/admin/queues')).status).toBe(303);
    expect((await t.request('/admin/queues/')).headers.get('location')).toMatch(/^\/login/u);
    for (const role of ['viewer', 'editor'] as const) {
      expect((await t.request('/admin/queues', { as: role })).status).toBe(403);
      expect(
        (await t.request('/admin/queues/api/queues/poll/pause', { as: role, method: 'POST' })).status,
      ).toBe(403);
    }
    const res = await t.request('/admin/queues', { as: admin });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('bull-board');
    // bull-board brings its own inline styles: allowed there, and only there.
    expect(res.headers.get('content-security-policy')).toMatch(/style-src 'self' 'unsafe-inline'/u);
  });

  it('accepts bull-board’s own JSON calls only from our origin', async () => {
    const path = '/admin/queues/api/queues/poll/pause';
    expect(
      (await t.request(path, { as: admin, method: 'POST', headers: { 'Sec-Fetch-Site': 'same-origin' } }))
        .status,
    ).toBe(200);
    expect(
      (await t.request(path, { as: admin, method: 'POST', headers: { Origin: 'http://localhost' } })).status,
    ).toBe(200);
    expect(
      (await t.request(path, { as: admin, method: 'POST', headers: { 'Sec-Fetch-Site': 'cross-site' } }))
        .status,
    ).toBe(403);
    expect(
      (await t.request(path, { as: admin, method: 'POST', headers: { Origin: 'https://evil.example' } }))
        .status,
    ).toBe(403);
    // Neither header (not a browser): refused.
    expect((await t.request(path, { as: admin, method: 'POST' })).status).toBe(403);
  });

  it('is a 404 when no bull-board is configured', async () => {
    const bare = await createTestApp({ bullBoard: null });
    try {
      const session = await bare.login('admin');
      expect((await bare.request('/admin/queues', { as: session })).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
