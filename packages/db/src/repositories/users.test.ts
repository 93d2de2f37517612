import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, rejection, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../password.ts';
import { LastAdminError } from './users.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('users');
});
afterAll(async () => {
  await t?.drop();
});

const PASSWORD = 'correct horse battery staple';

/** Every row of the auth tables and the audit log, as text: where a leaked secret would show. */
async function everything(): Promise<string> {
  const parts = await Promise.all(
    ['users', 'sessions', 'api_tokens', 'audit_log'].map(async (table) =>
      JSON.stringify((await t.pool.query(`SELECT * FROM ${table}`)).rows),
    ),
  );
  return parts.join('\n');
}

describe('password hashing', () => {
  it('uses scrypt N=16384 r=8 p=1 with a 16-byte salt and a 64-byte key', async () => {
    const hash = await hashPassword(PASSWORD);
    const [scheme, n, r, p, salt, key] = hash.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(salt as string, 'base64')).toHaveLength(16);
    expect(Buffer.from(key as string, 'base64')).toHaveLength(64);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, hash)).toBe(false);
    expect(await hashPassword(PASSWORD)).not.toBe(hash);
  });

  it('never matches a malformed hash or the dummy hash', async () => {
    expect(await verifyPassword(PASSWORD, 'plain')).toBe(false);
    expect(await verifyPassword('', DUMMY_PASSWORD_HASH)).toBe(false);
  });
});

describe('users repository', () => {
  let adminId: string;

  it('creates the first admin once, even when two setups race', async () => {
    expect(await t.repos.users.count()).toBe(0);
    const results = await Promise.all([
      t.repos.users.createFirst({ username: 'Aiko', password: PASSWORD }, WEB_ACTOR),
      t.repos.users.createFirst({ username: 'Bunta', password: PASSWORD }, WEB_ACTOR),
    ]);
    const created = results.filter((r) => r !== null);
    expect(created).toHaveLength(1);
    expect(created[0]?.role).toBe('admin');
    adminId = created[0]?.id as string;
    expect(await t.repos.users.count()).toBe(1);
    // Whoever won, rename to a known username for the rest of the file.
    await t.pool.query(`UPDATE users SET username = 'Aiko' WHERE id = $1`, [adminId]);
  });

  it('stores only the scrypt hash and audits creation without the password', async () => {
    const raw = await everything();
    expect(raw).not.toContain(PASSWORD);
    expect(raw).toMatch(/"password_hash":"scrypt\$16384\$8\$1\$/u);
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.create' });
    expect(entry?.detail).toMatchObject({ role: 'admin' });
    const user = await t.repos.users.get(adminId);
    expect(user).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(await t.repos.users.list())).not.toContain('scrypt');
  });

  it('validates new users and refuses a username taken in another case', async () => {
    const bad = await rejection(
      t.repos.users.create({ username: ' ', password: 'short', role: 'viewer' }, WEB_ACTOR),
    );
    expect(bad.problems?.map((p) => p.path).sort()).toEqual(['password', 'username']);
    const role = await rejection(
      t.repos.users.create({ username: 'x', password: PASSWORD, role: 'root' as never }, WEB_ACTOR),
    );
    expect(role.problems?.[0]?.path).toBe('role');
    const dup = await rejection(
      t.repos.users.create({ username: 'aIKO', password: PASSWORD, role: 'viewer' }, WEB_ACTOR),
    );
    expect(dup.name).toBe('ConflictError');
    expect(dup.message).toContain('taken');
  });

  it('verifies in any case of the username; records logins and failures without passwords', async () => {
    const user = await t.repos.users.verify('aiko', PASSWORD, { ip: '10.0.0.1' });
    expect(user).toMatchObject({ id: adminId, username: 'Aiko', role: 'admin' });
    expect(user?.lastLoginAt).toBeInstanceOf(Date);
    expect(await t.repos.users.verify('Aiko', 'wrong password!!')).toBeNull();
    expect(await t.repos.users.verify('nobody', PASSWORD)).toBeNull();
    expect(await t.repos.users.verify('', '')).toBeNull();
    const [login] = await t.repos.audit.list({ limit: 1, action: 'user.login' });
    expect(login).toMatchObject({ target: adminId, detail: { ip: '10.0.0.1' } });
    const failures = await t.repos.audit.list({ limit: 10, action: 'user.login_failed' });
    expect(failures.map((f) => f.detail.username)).toEqual(['', 'nobody', 'Aiko']);
    expect(failures[1]?.target).toBeNull();
    expect(failures[2]?.target).toBe(adminId);
    expect(await everything()).not.toContain(PASSWORD);
  });

  it('takes about as long for an unknown user as for a wrong password', async () => {
    const time = async (username: string) => {
      const start = performance.now();
      for (let i = 0; i < 4; i++) await t.repos.users.verify(username, 'wrong password!!');
      return performance.now() - start;
    };
    await time('Aiko');
    const known = await time('Aiko');
    const unknown = await time('nobody-at-all');
    // Both pay for four scrypt derivations (tens of ms each); a skipped hash would be ~10× faster.
    expect(unknown).toBeGreaterThan(known * 0.4);
  });

  it('checks a password by id', async () => {
    expect(await t.repos.users.checkPassword(adminId, PASSWORD)).toBe(true);
    expect(await t.repos.users.checkPassword(adminId, 'nope')).toBe(false);
    expect(await t.repos.users.checkPassword('not-a-uuid', PASSWORD)).toBe(false);
  });

  it('never removes or demotes the last admin, even when two admins demote each other at once', async () => {
    await expect(t.repos.users.setRole(adminId, 'editor', WEB_ACTOR)).rejects.toBeInstanceOf(LastAdminError);
    await expect(t.repos.users.remove(adminId, WEB_ACTOR)).rejects.toBeInstanceOf(LastAdminError);
    const second = await t.repos.users.create(
      { username: 'Chie', password: PASSWORD, role: 'admin' },
      WEB_ACTOR,
    );
    const results = await Promise.allSettled([
      t.repos.users.setRole(adminId, 'viewer', WEB_ACTOR),
      t.repos.users.setRole(second.id, 'viewer', WEB_ACTOR),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const admins = (await t.repos.users.list()).filter((u) => u.role === 'admin');
    expect(admins).toHaveLength(1);
    // Put Aiko back as the admin and remove Chie.
    const remaining = admins[0] as { id: string };
    if (remaining.id !== adminId) {
      await t.repos.users.setRole(adminId, 'admin', WEB_ACTOR);
      await t.repos.users.setRole(remaining.id, 'viewer', WEB_ACTOR);
    }
    expect(await t.repos.users.remove(second.id, WEB_ACTOR)).toBe(true);
    expect(await t.repos.users.remove(second.id, WEB_ACTOR)).toBe(false);
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.remove' });
    expect(entry).toMatchObject({ target: second.id, detail: { username: 'Chie' } });
  });

  it('changes roles (audited) and passwords', async () => {
    const editor = await t.repos.users.create(
      { username: 'Daichi', password: PASSWORD, role: 'editor' },
      WEB_ACTOR,
    );
    expect((await t.repos.users.setRole(editor.id, 'viewer', WEB_ACTOR)).role).toBe('viewer');
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'user.role' });
    expect(entry?.detail).toEqual({ username: 'Daichi', from: 'editor', to: 'viewer' });
    await expect(
      t.repos.users.setRole('00000000-0000-4000-8000-000000000000', 'viewer', WEB_ACTOR),
    ).rejects.toThrow(/does not exist/u);
    await expect(t.repos.users.setPassword(editor.id, 'short', WEB_ACTOR)).rejects.toThrow(/at least 12/u);
    await t.repos.users.setPassword(editor.id, 'another long password', WEB_ACTOR);
    expect(await t.repos.users.verify('daichi', PASSWORD)).toBeNull();
    expect(await t.repos.users.verify('daichi', 'another long password')).not.toBeNull();
    expect(await everything()).not.toContain('another long password');
  });
});

describe('sessions repository', () => {
  const NOW = new Date('2026-11-24T09:00:00.000Z');
  const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
  let userId: string;

  beforeAll(async () => {
    userId = (await t.repos.users.create({ username: 'Eri', password: PASSWORD, role: 'editor' }, WEB_ACTOR))
      .id;
  });

  it('stores only the SHA-256 of the token and returns the user with the CSRF secret', async () => {
    const session = await t.repos.sessions.create(userId, 3600, NOW);
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(session.expiresAt).toEqual(at(3600));
    expect(await everything()).not.toContain(session.token);
    const info = await t.repos.sessions.get(session.token, at(10));
    expect(info).toMatchObject({
      user: { id: userId, username: 'Eri', role: 'editor' },
      csrfSecret: session.csrfSecret,
    });
    expect(info?.renewed).toBe(false);
    expect(
      await t.repos.sessions.get(
        `${session.token.slice(0, -1)}${session.token.endsWith('A') ? 'B' : 'A'}`,
        at(10),
      ),
    ).toBeNull();
    expect(await t.repos.sessions.get('garbage', at(10))).toBeNull();
  });

  it('slides: each use (after a minute) moves the expiry to now + ttl; expired sessions are gone', async () => {
    const { token } = await t.repos.sessions.create(userId, 3600, NOW);
    const first = await t.repos.sessions.get(token, at(3000));
    expect(first?.renewed).toBe(true);
    expect(first?.expiresAt).toEqual(at(6600));
    expect((await t.repos.sessions.get(token, at(6000)))?.expiresAt).toEqual(at(9600));
    expect(await t.repos.sessions.get(token, at(9600))).toBeNull();
    expect(await t.repos.sessions.get(token, at(10))).toBeNull(); // deleted, not just expired
  });

  it('follows the user: a new role applies at once, a removed user has no session', async () => {
    const { token } = await t.repos.sessions.create(userId, 3600, NOW);
    await t.repos.users.setRole(userId, 'viewer', WEB_ACTOR);
    expect((await t.repos.sessions.get(token, NOW))?.user.role).toBe('viewer');
    const other = await t.repos.users.create(
      { username: 'Fumi', password: PASSWORD, role: 'viewer' },
      WEB_ACTOR,
    );
    const theirs = await t.repos.sessions.create(other.id, 3600, NOW);
    await t.repos.users.remove(other.id, WEB_ACTOR);
    expect(await t.repos.sessions.get(theirs.token, NOW)).toBeNull();
  });

  it('destroys one, all but one, or all sessions of a user; purges expired ones', async () => {
    const a = await t.repos.sessions.create(userId, 3600, NOW);
    const b = await t.repos.sessions.create(userId, 3600, NOW);
    const c = await t.repos.sessions.create(userId, 3600, NOW);
    expect(await t.repos.sessions.destroy(a.token)).toBe(true);
    expect(await t.repos.sessions.destroy(a.token)).toBe(false);
    expect(await t.repos.sessions.get(a.token, NOW)).toBeNull();
    expect(await t.repos.sessions.destroyAll(userId, c.token)).toBeGreaterThanOrEqual(1);
    expect(await t.repos.sessions.get(b.token, NOW)).toBeNull();
    expect(await t.repos.sessions.get(c.token, NOW)).not.toBeNull();
    await t.repos.sessions.destroyAll(userId);
    expect(await t.repos.sessions.get(c.token, NOW)).toBeNull();
    await t.repos.sessions.create(userId, 60, NOW);
    expect(await t.repos.sessions.purgeExpired(at(61))).toBe(1);
  });

  it('refuses a bad ttl or user id', async () => {
    await expect(t.repos.sessions.create(userId, 0, NOW)).rejects.toThrow(/ttl/u);
    await expect(t.repos.sessions.create('nope', 60, NOW)).rejects.toThrow(/does not exist/u);
  });
});

describe('API tokens repository', () => {
  let userId: string;
  beforeAll(async () => {
    userId = (await t.repos.users.create({ username: 'Goro', password: PASSWORD, role: 'editor' }, WEB_ACTOR))
      .id;
  });

  it('creates a kk_ token shown once, stored as SHA-256, audited by name and prefix', async () => {
    const { token, record } = await t.repos.apiTokens.create(userId, ' ci ', WEB_ACTOR);
    expect(token).toMatch(/^kk_[A-Za-z0-9_-]{43}$/u);
    expect(record).toMatchObject({
      userId,
      name: 'ci',
      prefix: token.slice(0, 9),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(record)).not.toContain(token);
    expect(await everything()).not.toContain(token);
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'token.create' });
    expect(entry).toMatchObject({ target: record.id, detail: { name: 'ci', prefix: record.prefix } });
    expect(JSON.stringify(await t.repos.apiTokens.list(userId))).not.toContain(token);
  });

  it('verifies to the user with the current role and records its use', async () => {
    const { token, record } = await t.repos.apiTokens.create(userId, 'script', WEB_ACTOR);
    expect(await t.repos.apiTokens.verify(token)).toEqual({ id: userId, username: 'Goro', role: 'editor' });
    const [listed] = (await t.repos.apiTokens.list(userId)).filter((r) => r.id === record.id);
    expect(listed?.lastUsedAt).toBeInstanceOf(Date);
    expect(
      await t.repos.apiTokens.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`),
    ).toBeNull();
    expect(await t.repos.apiTokens.verify('kk_short')).toBeNull();
    expect(await t.repos.apiTokens.verify(token.slice(3))).toBeNull();
  });

  it('revokes only the owner’s live token, audited', async () => {
    const { token, record } = await t.repos.apiTokens.create(userId, 'to revoke', WEB_ACTOR);
    const stranger = await t.repos.users.create(
      { username: 'Hana', password: PASSWORD, role: 'admin' },
      WEB_ACTOR,
    );
    expect(await t.repos.apiTokens.revoke(record.id, stranger.id, WEB_ACTOR)).toBe(false);
    expect(await t.repos.apiTokens.verify(token)).not.toBeNull();
    expect(await t.repos.apiTokens.revoke(record.id, userId, WEB_ACTOR)).toBe(true);
    expect(await t.repos.apiTokens.revoke(record.id, userId, WEB_ACTOR)).toBe(false);
    expect(await t.repos.apiTokens.verify(token)).toBeNull();
    const [entry] = await t.repos.audit.list({ limit: 1, action: 'token.revoke' });
    expect(entry).toMatchObject({ target: record.id, detail: { name: 'to revoke' } });
    expect((await t.repos.apiTokens.list(userId)).find((r) => r.id === record.id)?.revokedAt).toBeInstanceOf(
      Date,
    );
  });

  it('goes with its user', async () => {
    const temp = await t.repos.users.create(
      { username: 'Isamu', password: PASSWORD, role: 'viewer' },
      WEB_ACTOR,
    );
    const { token } = await t.repos.apiTokens.create(temp.id, 'temp', WEB_ACTOR);
    await t.repos.users.remove(temp.id, WEB_ACTOR);
    expect(await t.repos.apiTokens.verify(token)).toBeNull();
    expect(await t.repos.apiTokens.list(temp.id)).toEqual([]);
  });

  it('validates the name and the user', async () => {
    await expect(t.repos.apiTokens.create(userId, '  ', WEB_ACTOR)).rejects.toThrow(/enter a name/u);
    await expect(
      t.repos.apiTokens.create('00000000-0000-4000-8000-000000000000', 'x', WEB_ACTOR),
    ).rejects.toThrow(/does not exist/u);
  });
});
