import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, rejection, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import { createRepositories } from './index.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('accounts');
});
afterAll(async () => {
  await t?.drop();
});

const SECRET = 'mastodon-token-0123456789abcdef';

/** Every column of every account row, as text: where a leaked secret would show. */
async function rawAccountRows(): Promise<string> {
  const { rows } = await t.pool.query('SELECT * FROM platform_accounts');
  return JSON.stringify(rows);
}

describe('accounts repository', () => {
  let id: string;

  it('creates an account with its credentials encrypted, audited without them', async () => {
    const account = await t.repos.accounts.create(
      {
        platform: 'mastodon',
        label: ' Main ',
        baseUrl: 'https://mstdn.jp',
        credentials: { accessToken: SECRET },
        streamEnabled: true,
      },
      WEB_ACTOR,
    );
    id = account.id;
    expect(account).toMatchObject({
      platform: 'mastodon',
      label: 'Main',
      baseUrl: 'https://mstdn.jp',
      streamingUrl: null,
      handle: null,
      enabled: true,
      demo: false,
      pollIntervalSeconds: 60,
      streamEnabled: true,
    });
    expect(JSON.stringify(account)).not.toContain(SECRET);
    expect(account).not.toHaveProperty('credentials');
    expect(account).not.toHaveProperty('credentialsEncrypted');

    const raw = await rawAccountRows();
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(raw).toMatch(/"credentials_encrypted":"v1:/u);

    const [entry] = await t.repos.audit.list({ limit: 1, action: 'account.create' });
    expect(entry).toMatchObject({
      target: id,
      actor: WEB_ACTOR,
      detail: { platform: 'mastodon', label: 'Main' },
    });
    expect(JSON.stringify(await t.repos.audit.list({ limit: 100 }))).not.toContain(SECRET);
  });

  it('returns the plain credentials only from credentials(id)', async () => {
    expect(await t.repos.accounts.credentials(id)).toEqual({ accessToken: SECRET });
    expect(JSON.stringify(await t.repos.accounts.list())).not.toContain(SECRET);
    expect(JSON.stringify(await t.repos.accounts.get(id))).not.toContain(SECRET);
  });

  it('cannot read the credentials with another key, and says so without them', async () => {
    const other = createRepositories(t.db, { encryptionKey: randomBytes(32).toString('hex') });
    const error = await other.accounts.credentials(id).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot be read: .*wrong key/u);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('detects a ciphertext copied from another account', async () => {
    const second = await t.repos.accounts.create(
      { platform: 'x', label: 'Main', credentials: { bearerToken: 'other-secret' } },
      WEB_ACTOR,
    );
    await t.pool.query(
      `UPDATE platform_accounts SET credentials_encrypted = (SELECT credentials_encrypted FROM platform_accounts WHERE id = $1) WHERE id = $2`,
      [id, second.id],
    );
    await expect(t.repos.accounts.credentials(second.id)).rejects.toThrow(/cannot be read/u);
    await t.repos.accounts.remove(second.id, WEB_ACTOR);
  });

  it('refuses invalid input, naming each field, and never echoing credentials', async () => {
    const error = await rejection(
      t.repos.accounts.create(
        {
          platform: 'myspace',
          label: '',
          baseUrl: 'ftp://example.com',
          credentials: undefined,
          pollIntervalSeconds: 0,
        } as never,
        WEB_ACTOR,
      ),
    );
    expect(error.name).toBe('InvalidInputError');
    expect(error.problems?.map((p) => p.path).sort()).toEqual(
      ['baseUrl', 'credentials', 'label', 'platform', 'pollIntervalSeconds'].sort(),
    );
    const leaked = await rejection(
      t.repos.accounts.create(
        { platform: 'x', label: 'L', credentials: { token: SECRET }, typo: 1 } as never,
        WEB_ACTOR,
      ),
    );
    expect(leaked.message).toMatch(/typo/u);
    expect(leaked.message).not.toContain(SECRET);
  });

  it('refuses a duplicate label on the same platform', async () => {
    await expect(
      t.repos.accounts.create(
        { platform: 'mastodon', label: 'Main', credentials: { accessToken: 'x' } },
        WEB_ACTOR,
      ),
    ).rejects.toThrow(/a mastodon account labelled "Main" already exists/u);
  });

  it('records the identity once, and updates without touching credentials unless given', async () => {
    await t.repos.accounts.recordIdentity(id, { handle: 'booklog', accountId: '42' });
    await t.repos.accounts.recordIdentity(id, { handle: 'booklog', accountId: '42' });
    expect(await t.repos.audit.list({ limit: 10, action: 'account.identity' })).toHaveLength(1);

    const updated = await t.repos.accounts.update(
      id,
      { label: 'Support', pollIntervalSeconds: 120 },
      WEB_ACTOR,
    );
    expect(updated).toMatchObject({
      label: 'Support',
      pollIntervalSeconds: 120,
      handle: 'booklog',
      accountId: '42',
    });
    expect(await t.repos.accounts.credentials(id)).toEqual({ accessToken: SECRET });

    const rotated = await t.repos.accounts.update(
      id,
      { credentials: { accessToken: 'new-token-xyz' } },
      WEB_ACTOR,
    );
    expect(rotated).toMatchObject({ handle: null, accountId: null });
    expect(await t.repos.accounts.credentials(id)).toEqual({ accessToken: 'new-token-xyz' });
    expect(await rawAccountRows()).not.toContain('new-token-xyz');

    const updates = await t.repos.audit.list({ limit: 10, action: 'account.update' });
    expect(updates.map((e) => e.detail.changed)).toEqual([['credentials'], ['label', 'pollIntervalSeconds']]);
    expect(JSON.stringify(updates)).not.toContain('new-token-xyz');
    await expect(t.repos.accounts.update(id, { platform: 'x' } as never, WEB_ACTOR)).rejects.toThrow(
      /platform/u,
    );
  });

  it('removes an account (and its source states), audited', async () => {
    await t.repos.sources.recordPoll(
      id,
      'tag:booklog',
      { cursor: '1', rateLimit: null, postsRead: 1, requests: 1 },
      new Date(),
    );
    expect(await t.repos.accounts.remove(id, WEB_ACTOR)).toBe(true);
    expect(await t.repos.accounts.remove(id, WEB_ACTOR)).toBe(false);
    expect(await t.repos.accounts.get(id)).toBeNull();
    expect(await t.repos.sources.list(id)).toEqual([]);
    await expect(t.repos.accounts.credentials(id)).rejects.toThrow(/does not exist/u);
    const [removal] = await t.repos.audit.list({ limit: 1, action: 'account.remove' });
    expect(removal).toMatchObject({ target: id, detail: { platform: 'mastodon', label: 'Support' } });
    expect(await t.repos.accounts.get('not-a-uuid')).toBeNull();
  });
});

describe('discord settings', () => {
  it('has defaults until set, validates, and audits', async () => {
    expect(await t.repos.discord.get()).toEqual({
      guildId: null,
      channels: {},
      reviewerRoleIds: [],
      roles: {},
      locale: 'ja',
    });
    const bad = await t.repos.discord.set(
      { guildId: 'abc', channels: { review: 12 }, locale: 'fr' },
      WEB_ACTOR,
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.problems.map((p) => p.path).sort()).toEqual(['channels.review', 'guildId', 'locale']);

    const settings = {
      guildId: '111111111111111111',
      channels: { review: '222222222222222222', billing: '333333333333333333' },
      reviewerRoleIds: ['444444444444444444'],
      roles: { support: '555555555555555555' },
      locale: 'en' as const,
    };
    expect(await t.repos.discord.set(settings, WEB_ACTOR)).toEqual({ ok: true, settings });
    expect(await t.repos.discord.get()).toEqual(settings);
    expect((await t.repos.discord.set({ ...settings, locale: 'ja' }, WEB_ACTOR)).ok).toBe(true);
    expect((await t.repos.discord.get()).locale).toBe('ja');
    expect(await t.repos.audit.list({ limit: 10, action: 'discord.set' })).toHaveLength(2);
  });
});

describe('audit log', () => {
  it('records, filters by action or prefix, and pages by (at, id) without gaps', async () => {
    for (let i = 0; i < 7; i++) await t.repos.audit.record(WEB_ACTOR, 'test.event', `t${i}`, { i });
    const all = await t.repos.audit.list({ limit: 100, action: 'test.event' });
    expect(all.map((e) => e.target)).toEqual(['t6', 't5', 't4', 't3', 't2', 't1', 't0']);

    const seen: string[] = [];
    let before: { at: Date; id: string } | undefined;
    for (;;) {
      const page = await t.repos.audit.list({ limit: 3, action: 'test.*', before });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.target ?? ''));
      before = page.at(-1);
    }
    expect(seen).toEqual(['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
    expect(await t.repos.audit.list({ limit: 5, action: 'test_%' })).toEqual([]);
    await expect(t.repos.audit.record(WEB_ACTOR, 'No Dots', null)).rejects.toThrow(/dotted name/u);
  });
});
