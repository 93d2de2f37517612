import { type MastodonSandbox, startMastodonSandbox, startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/** /platforms: connected accounts, connection tests against the X and Mastodon stand-ins, usage and cost. */
let t: TestApp;
let x: XSandbox;
let mastodon: MastodonSandbox;
const NOW = new Date('2026-11-24T09:00:00.000Z');

function fieldError(body: string, path: string): string | undefined {
  const match = new RegExp(`data-field="${path.replace(/[[\]]/gu, '\\$&')}">([^<]*)<`, 'u').exec(body);
  return match?.[1]
    ?.replace(/&quot;/gu, '"')
    .replace(/&#39;/gu, "'")
    .replace(/&amp;/gu, '&');
}
const accounts = () => t.repos.accounts.list();

/** OAuth 1.0a keys for the X stand-in: it checks the access token only. */
const oauth1 = () => ({
  appKey: 'app-key-SECRET-1',
  appSecret: 'app-secret-SECRET-2',
  accessToken: x.bearerToken,
  accessSecret: 'access-secret-SECRET-3',
});

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  x = await startXSandbox();
  mastodon = await startMastodonSandbox();
});
afterAll(async () => {
  await x?.close();
  await mastodon?.close();
  await t?.close();
});

describe('/platforms: who may do what', () => {
  it('needs a signed-in user; viewers and editors see no connect forms and cannot change accounts', async () => {
    expect((await t.request('/platforms')).status).toBe(303);
    const viewer = await (await t.request('/platforms', { as: 'viewer' })).text();
    expect(viewer).not.toContain('action="/platforms/x"');
    const editor = await (await t.request('/platforms', { as: 'editor' })).text();
    expect(editor).not.toContain('action="/platforms/mastodon"');
    const form = { label: 'nope', ...oauth1(), baseUrl: x.url, action: 'connect' };
    expect((await t.request('/platforms/x', { as: 'viewer', form })).status).toBe(403);
    expect((await t.request('/platforms/x', { as: 'editor', form })).status).toBe(403);
    expect((await t.request('/platforms/x', { as: 'admin', form, csrf: false })).status).toBe(403);
    expect((await t.request('/platforms/x', { as: 'admin', form, csrf: 'forged' })).status).toBe(403);
    expect(await accounts()).toEqual([]);
  });
});

describe('/platforms: connecting', () => {
  it('connects an X account with OAuth 1.0a: tests it, saves it encrypted, records the handle, never shows a secret', async () => {
    const published = t.published;
    const res = await t.request('/platforms/x', {
      as: 'admin',
      form: {
        label: 'main',
        credentialKind: 'oauth1',
        ...oauth1(),
        baseUrl: x.url,
        pollIntervalSeconds: '120',
        enabled: 'on',
        action: 'connect',
      },
    });
    expect(res.status).toBe(303);
    const [account] = await accounts();
    expect(account).toMatchObject({
      platform: 'x',
      label: 'main',
      baseUrl: x.url,
      handle: 'kikimimi_help',
      pollIntervalSeconds: 120,
      enabled: true,
    });
    expect(res.headers.get('location')).toBe(`/platforms?done=connected#account-${account?.id}`);
    expect(await t.repos.accounts.credentials(account?.id as string)).toEqual({
      kind: 'oauth1',
      ...oauth1(),
    });
    expect(t.published).toBe(published + 1);
    const page = await (await t.request('/platforms', { as: 'admin' })).text();
    expect(page).toContain('@kikimimi_help');
    for (const secret of Object.values(oauth1())) expect(page).not.toContain(secret);
  });

  it('connects a Mastodon account with its instance URL and token', async () => {
    const res = await t.request('/platforms/mastodon', {
      as: 'admin',
      form: {
        label: 'mstdn',
        baseUrl: mastodon.url,
        accessToken: mastodon.accessToken,
        streamEnabled: 'on',
        enabled: 'on',
        pollIntervalSeconds: '60',
        action: 'connect',
      },
    });
    expect(res.status).toBe(303);
    const account = (await accounts()).find((a) => a.platform === 'mastodon');
    expect(account).toMatchObject({
      label: 'mstdn',
      baseUrl: mastodon.url,
      streamEnabled: true,
      handle: mastodon.account.acct,
    });
    expect(await (await t.request('/platforms', { as: 'viewer' })).text()).not.toContain(
      mastodon.accessToken,
    );
  });

  it('tests submitted credentials without saving, and shows a clear error without the token', async () => {
    const before = (await accounts()).length;
    const ok = await t.request('/platforms/x?lang=en', {
      as: 'admin',
      form: {
        label: 'trial',
        credentialKind: 'oauth2',
        oauth2AccessToken: x.bearerToken,
        baseUrl: x.url,
        action: 'test',
      },
    });
    expect(ok.status).toBe(200);
    const okBody = await ok.text();
    expect(okBody).toContain('Connected as @kikimimi_help');
    expect(okBody).not.toContain(x.bearerToken);
    expect(okBody).toContain('value="trial"'); // what is not secret stays in the form
    const bad = await t.request('/platforms/x?lang=en', {
      as: 'admin',
      form: {
        label: 'trial',
        credentialKind: 'oauth2',
        oauth2AccessToken: 'wrong-token-XYZ-123',
        baseUrl: x.url,
        action: 'connect',
      },
    });
    expect(bad.status).toBe(422);
    const badBody = await bad.text();
    expect(badBody).toMatch(/The platform refused the credentials/u);
    expect(badBody).not.toContain('wrong-token-XYZ-123');
    expect((await accounts()).length).toBe(before);
    const unreachable = await (
      await t.request('/platforms/mastodon?lang=en', {
        as: 'admin',
        form: { label: 'gone', baseUrl: 'http://127.0.0.1:9', accessToken: 'tok-SECRET-9', action: 'test' },
      })
    ).text();
    expect(unreachable).toMatch(/could not be reached/u);
    expect(unreachable).not.toContain('tok-SECRET-9');
  });

  it('says what the Mastodon server is and what its search can do when the connection is tested', async () => {
    const old = await startMastodonSandbox({ version: '4.3.1' });
    try {
      for (const [server, idBounds] of [
        [mastodon, false],
        [old, true],
      ] as const) {
        const res = await t.request('/platforms/mastodon?lang=en', {
          as: 'admin',
          form: { label: 'probe', baseUrl: server.url, accessToken: server.accessToken, action: 'test' },
        });
        expect(res.status).toBe(200);
        const body = await res.text();
        expect(body).toMatch(/Mastodon 4\.(5\.0|3\.1) at [^;]+; replies up to \d+ characters/u);
        expect(body).toContain('watches are surest with hashtags');
        expect(body.includes('refuses min_id')).toBe(idBounds);
      }
    } finally {
      await old.close();
    }
  });

  it('saves an untested account only when asked to', async () => {
    const res = await t.request('/platforms/x', {
      as: 'admin',
      form: {
        label: 'later',
        credentialKind: 'oauth2',
        oauth2AccessToken: 'not-yet-valid',
        baseUrl: x.url,
        saveUntested: 'on',
        action: 'connect',
      },
    });
    expect(res.status).toBe(303);
    expect((await accounts()).find((a) => a.label === 'later')).toMatchObject({ handle: null });
  });

  it('shows bad input next to the fields and saves nothing', async () => {
    const before = (await accounts()).length;
    const x1 = await t.request('/platforms/x?lang=en', {
      as: 'admin',
      form: {
        label: '',
        credentialKind: 'oauth1',
        appKey: 'k',
        appSecret: '',
        accessToken: 't',
        accessSecret: 's',
        baseUrl: 'ftp://nope',
        pollIntervalSeconds: '0',
        action: 'connect',
      },
    });
    expect(x1.status).toBe(422);
    const body = await x1.text();
    expect(fieldError(body, 'label')).toBeTruthy();
    expect(fieldError(body, 'appSecret')).toBeTruthy();
    expect(fieldError(body, 'baseUrl')).toBeTruthy();
    expect(fieldError(body, 'pollIntervalSeconds')).toBeTruthy();
    expect(body).not.toMatch(/type="password"[^>]*value="[^"]+"/u); // secrets never filled back in
    const none = await (
      await t.request('/platforms/mastodon?lang=en', {
        as: 'admin',
        form: { label: 'm2', baseUrl: '', accessToken: '', action: 'connect' },
      })
    ).text();
    expect(fieldError(none, 'baseUrl')).toBe('Mastodon needs the instance URL.');
    expect(fieldError(none, 'accessToken')).toBe('Enter the credentials.');
    const dup = await (
      await t.request('/platforms/x?lang=en', {
        as: 'admin',
        form: {
          label: 'main',
          credentialKind: 'oauth2',
          oauth2AccessToken: x.bearerToken,
          baseUrl: x.url,
          action: 'connect',
        },
      })
    ).text();
    expect(fieldError(dup, 'label')).toBe('An account with this label already exists.');
    expect((await accounts()).length).toBe(before);
  });
});

describe('/platforms: state, usage and cost', () => {
  it('shows per-source state, posts read this month and the estimated X cost (as an estimate)', async () => {
    const account = (await accounts()).find((a) => a.label === 'main');
    if (!account) throw new Error('no account');
    const resetAt = new Date(NOW.getTime() + 600_000);
    await t.repos.sources.recordPoll(
      account.id,
      'x-search-abc',
      { cursor: 'c', rateLimit: { limit: 450, remaining: 440, resetAt }, postsRead: 1000, requests: 10 },
      NOW,
    );
    await t.repos.sources.recordPoll(
      account.id,
      'x-search-abc',
      { cursor: 'd', rateLimit: { limit: 450, remaining: 439, resetAt }, postsRead: 234, requests: 3 },
      new Date('2026-11-02T00:00:00Z'),
    );
    await t.repos.sources.recordPoll(
      account.id,
      'x-search-old',
      { cursor: 'e', rateLimit: null, postsRead: 5000, requests: 1 },
      new Date('2026-10-31T23:00:00Z'),
    );
    await t.repos.sources.recordFailure(
      account.id,
      'x-search-def',
      'X search failed with HTTP 503: unavailable',
      null,
      NOW,
    );
    const body = await (await t.request('/platforms?lang=en', { as: 'viewer' })).text();
    expect(body).toContain('1234 posts read · 13 requests · 0 replies');
    expect(body).toContain('Estimated X cost: $6.17');
    expect(body).toMatch(/an estimate at about \$0\.005 per post read/u);
    expect(body).toContain('<code>x-search-abc</code>');
    expect(body).toContain('439 / 450');
    expect(body).toContain('X search failed with HTTP 503: unavailable');
    expect(body).toContain('This month (2026-11, UTC)');
  });
});

describe('/platforms: changing an account', () => {
  it('changes interval and state, keeping the stored secrets when the fields stay empty', async () => {
    const account = (await accounts()).find((a) => a.label === 'main');
    if (!account) throw new Error('no account');
    const edit = await (await t.request('/platforms', { as: 'admin' })).text();
    expect(edit).toContain(`action="/platforms/accounts/${account.id}"`);
    const res = await t.request(`/platforms/accounts/${account.id}`, {
      as: 'admin',
      form: {
        label: 'main',
        credentialKind: 'oauth1',
        appKey: '',
        appSecret: '',
        accessToken: '',
        accessSecret: '',
        baseUrl: x.url,
        pollIntervalSeconds: '300',
        enabled: '',
      },
    });
    expect(res.status).toBe(303);
    expect(await t.repos.accounts.get(account.id)).toMatchObject({
      pollIntervalSeconds: 300,
      enabled: false,
      handle: 'kikimimi_help',
    });
    expect(await t.repos.accounts.credentials(account.id)).toEqual({ kind: 'oauth1', ...oauth1() });
  });

  it('replaces credentials and checks them right away', async () => {
    const account = (await accounts()).find((a) => a.label === 'later');
    if (!account) throw new Error('no account');
    const res = await t.request(`/platforms/accounts/${account.id}?lang=en`, {
      as: 'admin',
      form: {
        label: 'later',
        credentialKind: 'oauth2',
        oauth2AccessToken: x.bearerToken,
        baseUrl: x.url,
        pollIntervalSeconds: '60',
        enabled: 'on',
      },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Saved. later: Connected as @kikimimi_help');
    expect(await t.repos.accounts.credentials(account.id)).toEqual({
      kind: 'oauth2',
      accessToken: x.bearerToken,
    });
    expect((await t.repos.accounts.get(account.id))?.handle).toBe('kikimimi_help');
  });

  it('refuses incomplete new credentials next to the field', async () => {
    const account = (await accounts()).find((a) => a.label === 'main');
    if (!account) throw new Error('no account');
    const res = await t.request(`/platforms/accounts/${account.id}?lang=en`, {
      as: 'admin',
      form: {
        label: 'main',
        credentialKind: 'oauth1',
        appKey: 'only-this-one',
        baseUrl: x.url,
        pollIntervalSeconds: '60',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(fieldError(body, 'appSecret')).toBeTruthy();
    expect(body).not.toContain('only-this-one');
    expect(await t.repos.accounts.credentials(account.id)).toEqual({ kind: 'oauth1', ...oauth1() });
  });

  it('tests the stored connection', async () => {
    const account = (await accounts()).find((a) => a.platform === 'mastodon');
    if (!account) throw new Error('no account');
    const res = await t.request(`/platforms/accounts/${account.id}/test?lang=en`, { as: 'admin', form: {} });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`mstdn: Connected as @${mastodon.account.acct}`);
    expect(
      (await t.request(`/platforms/accounts/${account.id}/test`, { as: 'editor', form: {} })).status,
    ).toBe(403);
  });

  it('removes an account only after confirmation', async () => {
    const account = (await accounts()).find((a) => a.label === 'later');
    if (!account) throw new Error('no account');
    expect((await t.request(`/platforms/accounts/${account.id}/delete`, { as: 'admin' })).status).toBe(200);
    const unconfirmed = await t.request(`/platforms/accounts/${account.id}/delete`, {
      as: 'admin',
      form: {},
    });
    expect(unconfirmed.status).toBe(303);
    expect(unconfirmed.headers.get('location')).toBe(
      `/platforms/accounts/${account.id}/delete?confirm=missing`,
    );
    expect(await t.repos.accounts.get(account.id)).not.toBeNull();
    const res = await t.request(`/platforms/accounts/${account.id}/delete`, {
      as: 'admin',
      form: { confirm: 'on' },
    });
    expect(res.status).toBe(303);
    expect(await t.repos.accounts.get(account.id)).toBeNull();
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ action: 'account.remove', actor: { kind: 'web' } });
  });
});

describe('/platforms: search options', () => {
  it('lets an editor change them and shows bad values next to the field', async () => {
    const ok = await t.request('/platforms/options', {
      as: 'editor',
      form: { 'x.maxQueryLength': '1024', 'mastodon.maxCharacters': '1000', 'mastodon.instance': 'mstdn.jp' },
    });
    expect(ok.status).toBe(303);
    expect((await t.repos.config.current()).config.platforms).toEqual({
      x: { excludeReposts: false, maxQueryLength: 1024 },
      mastodon: { maxCharacters: 1000, instance: 'mstdn.jp' },
    });
    const before = (await t.repos.config.current()).version;
    const bad = await t.request('/platforms/options?lang=en', {
      as: 'editor',
      form: {
        'x.excludeReposts': 'on',
        'x.maxQueryLength': '10',
        'mastodon.maxCharacters': '500',
        'mastodon.instance': 'not a domain',
      },
    });
    expect(bad.status).toBe(422);
    const body = await bad.text();
    expect(fieldError(body, 'x.maxQueryLength')).toBeTruthy();
    expect(fieldError(body, 'mastodon.instance')).toBe('a domain such as "mstdn.jp"');
    expect((await t.repos.config.current()).version).toBe(before);
    expect((await t.request('/platforms/options', { as: 'viewer', form: {} })).status).toBe(403);
  });
});
