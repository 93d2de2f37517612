import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/** Discord bindings (admin) and review routing (editor), on /discord. */
let t: TestApp;
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

function fieldError(body: string, path: string): string | undefined {
  const match = new RegExp(`data-field="${path.replace(/[[\]]/gu, '\\$&')}">([^<]*)<`, 'u').exec(body);
  return match?.[1]
    ?.replace(/&quot;/gu, '"')
    .replace(/&#39;/gu, "'")
    .replace(/&amp;/gu, '&');
}

beforeAll(async () => {
  t = await createTestApp();
  await t.repos.config.replace(
    {
      watches: [
        { id: 'brand', query: 'ブクログ' },
        { id: 'login', query: 'ログイン' },
      ],
      routing: {
        defaultReviewChannel: 'review',
        platforms: { mastodon: 'review-mastodon' },
        watches: { login: 'review-login' },
      },
      escalation: [
        {
          id: 'billing',
          when: { query: '課金' },
          actions: { route: 'billing', mentionRoles: ['billing-team', '999999999999'] },
        },
      ],
    },
    SYSTEM,
  );
  await t.repos.discord.set(
    { guildId: '100', channels: { review: '200' }, reviewerRoleIds: ['300'], locale: 'ja' },
    SYSTEM,
  );
});
afterAll(async () => {
  await t?.close();
});

const good = {
  guildId: '100',
  channelName: ['review', 'review-mastodon', 'review-login', 'billing', ''],
  channelId: ['200', '201', '202', '203', ''],
  reviewerRoleIds: '300, 301',
  roleName: ['billing-team', ''],
  roleId: ['400', ''],
  locale: 'en',
};

describe('/discord: who may do what', () => {
  it('needs a signed-in user; viewers and editors read the settings, only admins change them', async () => {
    expect((await t.request('/discord')).status).toBe(303);
    const viewer = await (await t.request('/discord', { as: 'viewer' })).text();
    expect(viewer).toContain('value="100"');
    const before = await t.repos.discord.get();
    expect((await t.request('/discord', { as: 'viewer', form: good })).status).toBe(403);
    expect((await t.request('/discord', { as: 'editor', form: good })).status).toBe(403);
    expect((await t.request('/discord', { as: 'admin', form: good, csrf: false })).status).toBe(403);
    expect(
      (await t.request('/discord/routing', { as: 'viewer', form: { defaultReviewChannel: 'x' } })).status,
    ).toBe(403);
    expect(
      (
        await t.request('/discord/routing', {
          as: 'editor',
          form: { defaultReviewChannel: 'x' },
          csrf: 'forged',
        })
      ).status,
    ).toBe(403);
    expect(await t.repos.discord.get()).toEqual(before);
  });
});

describe('/discord: settings', () => {
  it('lists every name the configuration uses and which still need a channel or role', async () => {
    const body = await (await t.request('/discord?lang=en', { as: 'admin' })).text();
    expect(body).toMatch(/Still needs a channel: [^<]*review-mastodon/u);
    for (const name of ['review-mastodon', 'review-login', 'billing']) {
      // Pre-filled as a row with an empty id, ready for the admin.
      expect(body).toMatch(
        new RegExp(
          `name="channelName" value="${name}"[^>]*>.*?</td>\\s*<td><input type="text" id="f-channels\\[\\d+\\]\\.id" name="channelId" value=""`,
          'su',
        ),
      );
    }
    expect(body).toContain('route of escalation billing');
    expect(body).toContain('review channel of watch login');
    expect(body).toContain('<code>billing-team</code>');
    // A raw role id is never mentioned: it is listed as a name still to bind.
    expect(body).toContain('<code>999999999999</code>');
  });

  it('saves the settings, audited, and tells the workers', async () => {
    const published = t.published;
    const res = await t.request('/discord', { as: 'admin', form: good });
    expect(res.status).toBe(303);
    expect(await t.repos.discord.get()).toEqual({
      guildId: '100',
      channels: { review: '200', 'review-mastodon': '201', 'review-login': '202', billing: '203' },
      reviewerRoleIds: ['300', '301'],
      roles: { 'billing-team': '400' },
      locale: 'en',
    });
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ action: 'discord.set', actor: { kind: 'web' } });
    expect(t.published).toBe(published + 1);
    const page = await (await t.request('/discord?lang=en', { as: 'viewer' })).text();
    expect(page).toContain('Every name in use has a channel.');
  });

  it('shows bad ids and rows next to them, saving nothing', async () => {
    const before = await t.repos.discord.get();
    const res = await t.request('/discord?lang=en', {
      as: 'admin',
      form: {
        guildId: 'my server',
        channelName: ['review', '', 'dup', 'dup'],
        channelId: ['#review', '5', '6', '7'],
        reviewerRoleIds: '300, moderators',
        roleName: ['ok'],
        roleId: ['12ab'],
        locale: 'fr',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(fieldError(body, 'guildId')).toMatch(/Discord id/u);
    expect(fieldError(body, 'channels[0].id')).toMatch(/Discord id/u);
    expect(fieldError(body, 'channels[1].name')).toBe('Enter a name.');
    expect(fieldError(body, 'channels[3].name')).toBe('The name "dup" appears twice.');
    expect(fieldError(body, 'reviewerRoleIds')).toBeTruthy();
    expect(fieldError(body, 'roles[0].id')).toBeTruthy();
    expect(fieldError(body, 'locale')).toBeTruthy();
    expect(body).toContain('value="#review"');
    expect(await t.repos.discord.get()).toEqual(before);

    const ja = await (
      await t.request('/discord', {
        as: 'admin',
        headers: { 'Accept-Language': 'ja' },
        form: { ...good, guildId: 'abc' },
      })
    ).text();
    expect(fieldError(ja, 'guildId')).toBe('Discord の ID（数字のみ）を入力してください');
  });
});

describe('/discord: routing', () => {
  it('saves the review routing (an editor may)', async () => {
    const res = await t.request('/discord/routing', {
      as: 'editor',
      form: {
        defaultReviewChannel: 'review',
        'platforms.x': 'review-x',
        'platforms.mastodon': '',
        'watches.brand': '',
        'watches.login': 'review-login',
      },
    });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.routing).toEqual({
      defaultReviewChannel: 'review',
      platforms: { x: 'review-x' },
      watches: { login: 'review-login' },
    });
    const page = await (await t.request('/discord?lang=en', { as: 'viewer' })).text();
    expect(page).toMatch(/Still needs a channel: review-x/u);
  });

  it('refuses an empty default channel, next to the field', async () => {
    const before = (await t.repos.config.current()).version;
    const res = await t.request('/discord/routing?lang=en', {
      as: 'editor',
      form: { defaultReviewChannel: '' },
    });
    expect(res.status).toBe(422);
    expect(fieldError(await res.text(), 'defaultReviewChannel')).toBeTruthy();
    expect((await t.repos.config.current()).version).toBe(before);
  });
});
