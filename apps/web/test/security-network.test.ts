import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDestination, isPrivateAddress } from '../src/routes/config/destination-guard.ts';
import { createTestApp, type TestApp } from './harness.ts';

/*
 * Issue 14 item 13: "Test connection" must not reach loopback, private or link-local destinations
 * (unless the operator allows them), checked after DNS resolution and on redirects, and must never
 * show what a foreign server answered.
 */

/** An "internal service": counts requests, answers 401 with a secret, or redirects. */
function internalService(redirectTo?: (port: number) => string) {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    if (redirectTo && request.url?.startsWith('/api/v1/instance')) {
      response.writeHead(302, { Location: redirectTo((server.address() as AddressInfo).port) });
      response.end();
      return;
    }
    response.writeHead(401, { 'Content-Type': 'application/json' });
    response.end('{"error":"401 SECRET-INTERNAL-DATA from the metadata service"}');
  });
  return {
    server,
    get hits() {
      return hits;
    },
    start: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
      ),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['8.8.8.8', false],
    ['203.0.113.10', true],
    ['2001:4860:4860::8888', false],
    ['1.1.1.1', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe('checkDestination', () => {
  it.each([
    'http://127.0.0.1:8080',
    'http://0x7f000001:8080',
    'http://2130706433/',
    'http://[::1]:8080',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost:8080',
    'https://[::ffff:127.0.0.1]/',
  ])('refuses %s', async (url) => {
    expect(await checkDestination(url, { allowPrivate: false })).toMatchObject({
      ok: false,
      reason: 'private',
    });
  });

  it('refuses other schemes', async () => {
    expect(await checkDestination('file:///etc/passwd', { allowPrivate: false })).toMatchObject({
      ok: false,
      reason: 'scheme',
    });
  });

  it('follows redirects and refuses one that leads to a blocked address', async () => {
    const service = internalService((port) => `http://127.0.0.2:${port}/api/v1/instance`);
    const port = await service.start();
    try {
      // Only 127.0.0.2 counts as blocked here, so that a real server on loopback can play the public host.
      const result = await checkDestination(`http://127.0.0.1:${port}`, {
        allowPrivate: false,
        probePath: '/api/v1/instance',
        blocked: (ip) => ip === '127.0.0.2',
      });
      expect(result).toMatchObject({ ok: false, reason: 'private', host: '127.0.0.2' });
    } finally {
      await service.stop();
    }
  });

  it('lets everything through when private networks are allowed', async () => {
    expect(await checkDestination('http://127.0.0.1:9', { allowPrivate: true })).toEqual({ ok: true });
  });
});

describe('"Test connection" in the console', () => {
  let t: TestApp;
  let allowed: TestApp;
  const service = internalService();
  let port = 0;
  beforeAll(async () => {
    port = await service.start();
    t = await createTestApp({ deps: { allowPrivateNetworks: false } });
    allowed = await createTestApp({ deps: { allowPrivateNetworks: true } });
  });
  afterAll(async () => {
    await service.stop();
    await t?.close();
    await allowed?.close();
  });

  it('refuses loopback, private and link-local instance URLs without contacting them', async () => {
    for (const baseUrl of [
      `http://127.0.0.1:${port}`,
      `http://0x7f000001:${port}`,
      `http://localhost:${port}`,
      `http://[::1]:${port}`,
      'http://169.254.169.254',
    ]) {
      const res = await t.request('/platforms/mastodon?lang=en', {
        as: 'admin',
        form: { label: 'internal', baseUrl, accessToken: 'tok-SECRET-77', action: 'test' },
      });
      expect(res.status, baseUrl).toBe(422);
      const body = await res.text();
      expect(body).toMatch(/private network/u);
      expect(body).toContain('ALLOW_PRIVATE_NETWORKS');
      expect(body).not.toContain('SECRET');
    }
    expect(service.hits).toBe(0);
  });

  it('where allowed, never shows what the server answered', async () => {
    const res = await allowed.request('/platforms/mastodon?lang=en', {
      as: 'admin',
      form: {
        label: 'internal',
        baseUrl: `http://127.0.0.1:${port}`,
        accessToken: 'tok-SECRET-78',
        action: 'test',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toMatch(/HTTP 401/u);
    expect(body).not.toContain('SECRET');
    expect(service.hits).toBeGreaterThan(0);
  });

  it('refuses to save an account on a private address through the API or the edit form', async () => {
    const hitsBefore = service.hits;
    const api = await t.request('/api/accounts?lang=en', {
      as: 'admin',
      json: {
        platform: 'mastodon',
        label: 'internal',
        baseUrl: `http://127.0.0.1:${port}`,
        credentials: { kind: 'mastodon', accessToken: 'tok-SECRET-79' },
      },
    });
    expect(api.status).toBe(422);
    expect(JSON.stringify(await api.json())).toMatch(/"path":"baseUrl".*private network/u);
    expect(await t.repos.accounts.list()).toEqual([]);

    const account = await t.repos.accounts.create(
      {
        platform: 'mastodon',
        label: 'public',
        baseUrl: 'https://mastodon.example',
        credentials: { kind: 'mastodon', accessToken: 'tok-80' },
      } as never,
      { kind: 'system', id: 'test', name: 'test' },
    );
    const patched = await t.request(`/api/accounts/${account.id}?lang=en`, {
      method: 'PATCH',
      as: 'admin',
      json: { baseUrl: 'http://169.254.169.254' },
    });
    expect(patched.status).toBe(422);
    const edited = await t.request(`/platforms/accounts/${account.id}?lang=en`, {
      as: 'admin',
      form: { label: 'public', baseUrl: `http://[::1]:${port}`, pollIntervalSeconds: '60' },
    });
    expect(edited.status).toBe(422);
    expect(await edited.text()).toMatch(/private network/u);
    expect((await t.repos.accounts.get(account.id))?.baseUrl).toBe('https://mastodon.example');
    expect(service.hits).toBe(hitsBefore);
  });
});
