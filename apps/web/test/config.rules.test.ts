import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/** Escalation rules and suppression: the two rule pages editors keep. */
let t: TestApp;
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

function fieldError(body: string, path: string): string | undefined {
  const match = new RegExp(`data-field="${path.replace(/[[\]]/gu, '\\$&')}">([^<]*)<`, 'u').exec(body);
  return match?.[1]
    ?.replace(/&quot;/gu, '"')
    .replace(/&#39;/gu, "'")
    .replace(/&amp;/gu, '&');
}
const versions = async () => (await t.repos.config.current()).version;

beforeAll(async () => {
  t = await createTestApp();
  await t.repos.config.replace(
    {
      watches: [
        { id: 'brand', query: 'ブクログ' },
        { id: 'login', query: 'ログイン できない' },
      ],
      escalation: [
        {
          id: 'billing',
          name: '課金',
          when: { query: '課金 OR 請求' },
          actions: { route: 'billing', mentionRoles: ['billing-team'], priority: 'high' },
        },
      ],
    },
    SYSTEM,
  );
  await t.repos.discord.set(
    {
      channels: { billing: '111', review: '222' },
      roles: { 'billing-team': '333', 'cs-lead': '334', oncall: '335' },
    },
    SYSTEM,
  );
});
afterAll(async () => {
  await t?.close();
});

describe('/escalation', () => {
  it('needs a signed-in user; a viewer reads, only editors change, with the CSRF token', async () => {
    expect((await t.request('/escalation')).status).toBe(303);
    const list = await (await t.request('/escalation?lang=en', { as: 'viewer' })).text();
    expect(list).toContain('id="rule-billing"');
    expect(list).toContain('Query: 課金 OR 請求');
    expect(list).not.toContain('href="/escalation/new"');
    const before = await versions();
    const form = { id: 'r', route: 'x' };
    expect((await t.request('/escalation', { as: 'viewer', form })).status).toBe(403);
    expect((await t.request('/escalation/billing/toggle', { as: 'viewer', form: {} })).status).toBe(403);
    expect((await t.request('/escalation/billing/delete', { as: 'viewer', form: {} })).status).toBe(403);
    expect((await t.request('/escalation', { as: 'editor', form, csrf: false })).status).toBe(403);
    expect(await versions()).toBe(before);
  });

  it('creates a rule with every kind of condition and action', async () => {
    const res = await t.request('/escalation', {
      as: 'editor',
      form: {
        originalId: '',
        id: 'vip',
        name: 'VIP',
        enabled: 'on',
        query: '解約',
        watches: ['brand', 'login'],
        intents: ['complaint', 'trouble'],
        platforms: ['x'],
        minFollowers: '10000',
        maxFollowers: '',
        route: 'vip',
        mentionRoles: 'cs-lead, oncall',
        priority: 'urgent',
      },
    });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.escalation.find((r) => r.id === 'vip')).toEqual({
      id: 'vip',
      name: 'VIP',
      enabled: true,
      when: {
        query: '解約',
        watches: ['brand', 'login'],
        intents: ['complaint', 'trouble'],
        platforms: ['x'],
        minFollowers: 10000,
      },
      actions: { route: 'vip', mentionRoles: ['cs-lead', 'oncall'], priority: 'urgent' },
    });
    expect(t.published).toBeGreaterThan(0);
  });

  it('offers the known channel and role names', async () => {
    const body = await (await t.request('/escalation/new', { as: 'editor' })).text();
    expect(body).toContain(
      '<datalist id="known-channels"><option value="billing"></option><option value="review"></option></datalist>',
    );
    expect(body).toContain('<option value="billing-team"></option>');
  });

  it('checks the query like a watch’s, the followers and the watches, next to each field', async () => {
    const before = await versions();
    const res = await t.request('/escalation?lang=en', {
      as: 'editor',
      form: {
        originalId: '',
        id: 'bad',
        query: '課金 OR',
        watches: ['ghost'],
        minFollowers: '-5',
        maxFollowers: 'many',
        priority: 'asap',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(fieldError(body, 'query')).toMatch(/^OR needs something on both sides.*\(line 1, column 4\)$/u);
    expect(fieldError(body, 'watches')).toBe('There is no watch with the id "ghost".');
    expect(fieldError(body, 'minFollowers')).toBeTruthy();
    expect(fieldError(body, 'maxFollowers')).toBeTruthy();
    expect(fieldError(body, 'priority')).toBeTruthy();
    expect(await versions()).toBe(before);
  });

  it('reports min above max from the whole-configuration check', async () => {
    const body = await (
      await t.request('/escalation?lang=en', {
        as: 'editor',
        form: { id: 'range', minFollowers: '100', maxFollowers: '10' },
      })
    ).text();
    expect(fieldError(body, 'minFollowers')).toBe('minFollowers (100) is larger than maxFollowers (10)');
  });

  it('edits, toggles and deletes a rule', async () => {
    const page = await (await t.request('/escalation/billing', { as: 'editor' })).text();
    expect(page).toContain('value="billing"');
    expect(page).toContain('課金 OR 請求</textarea>');
    const res = await t.request('/escalation', {
      as: 'editor',
      form: {
        originalId: 'billing',
        id: 'billing',
        name: '課金',
        enabled: 'on',
        query: '課金 OR 請求 OR 返金',
        route: 'billing',
        mentionRoles: 'billing-team',
        priority: 'high',
      },
    });
    expect(res.status).toBe(303);
    expect(
      (await t.repos.config.current()).config.escalation.find((r) => r.id === 'billing')?.when.query,
    ).toBe('課金 OR 請求 OR 返金');
    await t.request('/escalation/billing/toggle', { as: 'editor', form: {} });
    expect((await t.repos.config.current()).config.escalation.find((r) => r.id === 'billing')?.enabled).toBe(
      false,
    );
    expect((await t.request('/escalation/vip/delete', { as: 'editor', form: {} })).status).toBe(303);
    expect((await t.repos.config.current()).config.escalation.map((r) => r.id)).toEqual(['billing']);
  });
});

describe('/suppression', () => {
  it('needs a signed-in user; a viewer reads, only editors change, with the CSRF token', async () => {
    expect((await t.request('/suppression')).status).toBe(303);
    expect((await t.request('/suppression', { as: 'viewer' })).status).toBe(200);
    const before = await versions();
    expect((await t.request('/suppression', { as: 'viewer', form: { maxAgeHours: '1' } })).status).toBe(403);
    expect(
      (await t.request('/suppression', { as: 'editor', form: { maxAgeHours: '1' }, csrf: 'forged' })).status,
    ).toBe(403);
    expect(await versions()).toBe(before);
  });

  it('saves every setting', async () => {
    const res = await t.request('/suppression', {
      as: 'editor',
      form: {
        ownAccounts: 'x:booklog_official\nmastodon:@booklog@mstdn.jp\n',
        doNotContact: 'x:angry_user 2026-11 電話で依頼あり\nmastodon:quiet@example.social',
        ignoreReposts: 'on',
        maxAgeHours: '24',
        authorCooldownHours: '0',
        linkHandlesAcrossPlatforms: '',
        linkedAuthors: 'x:hanako mastodon:hanako@mstdn.jp',
        'dailyReplyCap.x': '50',
        'dailyReplyCap.mastodon': '',
      },
    });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.suppression).toEqual({
      ownAccounts: [
        { platform: 'x', handle: 'booklog_official' },
        { platform: 'mastodon', handle: 'booklog@mstdn.jp' },
      ],
      doNotContact: [
        { platform: 'x', handle: 'angry_user', note: '2026-11 電話で依頼あり' },
        { platform: 'mastodon', handle: 'quiet@example.social' },
      ],
      ignoreReposts: true,
      maxAgeHours: 24,
      authorCooldownHours: 0,
      linkHandlesAcrossPlatforms: false,
      linkedAuthors: [['x:hanako', 'mastodon:hanako@mstdn.jp']],
      dailyReplyCap: { x: 50 },
    });
    const page = await (await t.request('/suppression', { as: 'viewer' })).text();
    expect(page).toContain('x:angry_user 2026-11 電話で依頼あり');
  });

  it('shows each bad line next to its field, by line number, and saves nothing', async () => {
    const before = await versions();
    const res = await t.request('/suppression?lang=en', {
      as: 'editor',
      form: {
        ownAccounts: 'x:ok\nno-colon-here',
        doNotContact: 'x:fine\nthreads:someone',
        maxAgeHours: '-1',
        authorCooldownHours: 'soon',
        linkedAuthors: 'x:alone\nfacebook:a x:b',
        'dailyReplyCap.x': '1.5',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(fieldError(body, 'ownAccounts')).toMatch(/line 2 "no-colon-here" is not platform:handle/u);
    expect(fieldError(body, 'doNotContact')).toMatch(/^line 2: /u);
    expect(fieldError(body, 'maxAgeHours')).toBeTruthy();
    expect(fieldError(body, 'authorCooldownHours')).toBeTruthy();
    expect(fieldError(body, 'linkedAuthors')).toMatch(/line 1: /u);
    expect(fieldError(body, 'dailyReplyCap.x')).toBeTruthy();
    expect(body).toContain('no-colon-here</textarea>'); // what was typed stays
    expect(await versions()).toBe(before);
  });

  it('shows the whole-configuration check on linked authors by line', async () => {
    const body = await (
      await t.request('/suppression?lang=en', {
        as: 'editor',
        form: {
          linkedAuthors: 'x:a mastodon:b\nfacebook:a x:b',
          maxAgeHours: '48',
          authorCooldownHours: '72',
        },
      })
    ).text();
    expect(fieldError(body, 'linkedAuthors')).toMatch(/^line 2: unknown platform "facebook"/u);
  });
});
