import { type BlueskyNetwork, startBlueskyNetwork } from '@kikimimi/connectors/test/bluesky-network';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/*
 * Connecting a Bluesky account on /platforms, tested against Bluesky's reference PDS
 * (@atproto/dev-env), not a stand-in.
 */
let t: TestApp;
let bsky: BlueskyNetwork;
let desk: { handle: string; appPassword: string; did: string };

beforeAll(async () => {
  t = await createTestApp();
  bsky = await startBlueskyNetwork();
  desk = await bsky.createAccount('desk');
  await bsky.net.processAll();
}, 120_000);
afterAll(async () => {
  await t?.close();
  await bsky?.close();
}, 60_000);

describe('/platforms: connecting Bluesky', () => {
  it('shows the Bluesky form (handle, app password, PDS URL, streaming) in Japanese and English', async () => {
    const ja = await (await t.request('/platforms', { as: 'admin' })).text();
    expect(ja).toContain('id="connect-bluesky"');
    expect(ja).toContain('アプリパスワード');
    expect(ja).toContain('placeholder="https://bsky.social"');
    const en = await (await t.request('/platforms?lang=en', { as: 'admin' })).text();
    expect(en).toContain('App password');
    expect(en).toContain('Relay (firehose) URL');
  });

  it('tests the handle and app password against the PDS, then saves the account with its handle', async () => {
    const tested = await t.request('/platforms/bluesky?lang=en', {
      as: 'admin',
      form: {
        label: 'bsky',
        identifier: desk.handle,
        appPassword: desk.appPassword,
        baseUrl: bsky.net.pds.url,
        action: 'test',
      },
    });
    expect(tested.status).toBe(200);
    const body = await tested.text();
    expect(body).toContain('Connected as @desk.test');
    expect(body).not.toContain(desk.appPassword);

    const saved = await t.request('/platforms/bluesky', {
      as: 'admin',
      form: {
        label: 'bsky',
        identifier: desk.handle,
        appPassword: desk.appPassword,
        baseUrl: bsky.net.pds.url,
        streamEnabled: 'on',
        enabled: 'on',
        pollIntervalSeconds: '60',
        action: 'connect',
      },
    });
    expect(saved.status).toBe(303);
    const account = (await t.repos.accounts.list()).find((a) => a.platform === 'bluesky');
    expect(account).toMatchObject({
      label: 'bsky',
      baseUrl: bsky.net.pds.url,
      streamEnabled: true,
      handle: 'desk.test',
    });
    expect(await t.repos.accounts.credentials(account?.id ?? '')).toEqual({
      identifier: desk.handle,
      appPassword: desk.appPassword,
    });
    expect(await (await t.request('/platforms', { as: 'viewer' })).text()).not.toContain(desk.appPassword);
  });

  it('refuses a wrong app password and a missing one clearly, without showing the password', async () => {
    const before = (await t.repos.accounts.list()).length;
    const wrong = 'abcd-efgh-ijkl-mnop';
    const refused = await t.request('/platforms/bluesky?lang=en', {
      as: 'admin',
      form: {
        label: 'bad',
        identifier: desk.handle,
        appPassword: wrong,
        baseUrl: bsky.net.pds.url,
        action: 'connect',
      },
    });
    expect(refused.status).toBe(422);
    const text = await refused.text();
    expect(text).toMatch(/The platform refused the credentials/u);
    expect(text).not.toContain(wrong);

    const missing = await t.request('/platforms/bluesky?lang=ja', {
      as: 'admin',
      form: { label: 'bad', identifier: desk.handle, baseUrl: bsky.net.pds.url, action: 'connect' },
    });
    expect(missing.status).toBe(422);
    expect(await missing.text()).toMatch(/data-field="appPassword">[^<]+</u);
    expect((await t.repos.accounts.list()).length).toBe(before);
  });
});
