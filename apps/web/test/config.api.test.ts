import { measureReply } from '@kikimimi/rules';
import { startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { englishIn } from './english.ts';
import { createTestApp, type TestApp } from './harness.ts';

/** The configuration's JSON API: same validation as the forms, JSON errors, never a secret. */
let t: TestApp;
let x: XSandbox;
let admin: string;
let editor: string;
let viewer: string;

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; each assertion states the shape it expects
type Loose = Record<string, any>;

async function api(method: string, path: string, token: string | undefined, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await t.app.request(`/api${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: text === '' ? undefined : (JSON.parse(text) as Loose),
  };
}

beforeAll(async () => {
  t = await createTestApp();
  x = await startXSandbox();
  [admin, editor, viewer] = await Promise.all([
    t.apiToken('admin'),
    t.apiToken('editor'),
    t.apiToken('viewer'),
  ]);
  // Escalation rules may mention only role names an admin bound.
  await t.repos.discord.set({ roles: { billing: '400' } }, { kind: 'system', id: 'test', name: 'test' });
});
afterAll(async () => {
  await x?.close();
  await t?.close();
});

describe('authorisation', () => {
  it('answers 401 without a token, 403 for a role too low, and needs the CSRF header with a session', async () => {
    expect((await api('GET', '/config', undefined)).status).toBe(401);
    expect((await api('PUT', '/config', editor, {})).status).toBe(403);
    expect((await api('POST', '/watches', viewer, { id: 'a', query: 'a' })).status).toBe(403);
    expect((await api('PUT', '/discord', editor, {})).status).toBe(403);
    expect((await api('POST', '/accounts', editor, {})).status).toBe(403);
    const noCsrf = await t.request('/api/watches', {
      as: 'editor',
      json: { id: 'a', query: 'a' },
      csrf: false,
    });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as Loose).error).toBe('csrf');
    const withSession = await t.request('/api/watches', {
      as: 'editor',
      json: { id: 'session', query: 'セッション' },
    });
    expect(withSession.status).toBe(201);
  });
});

describe('/api/config', () => {
  it('replaces the whole configuration and reads it back', async () => {
    const published = t.published;
    const put = await api('PUT', '/config', admin, {
      watches: [{ id: 'brand', query: 'ブクログ OR booklog' }],
      templates: [{ id: 'thanks', category: 'thanks', text: 'ありがとうございます' }],
    });
    expect(put.status).toBe(200);
    expect(put.json?.version).toEqual(expect.any(Number));
    expect(t.published).toBe(published + 1);
    const get = await api('GET', '/config', viewer);
    expect(get.json).toMatchObject({
      version: put.json?.version,
      config: { watches: [{ id: 'brand', query: 'ブクログ OR booklog', enabled: true }] },
    });
    const history = await api('GET', '/config/history', viewer);
    expect(history.json?.versions[0]).toMatchObject({ version: put.json?.version, actor: { kind: 'web' } });
  });

  it('lists every problem with its path and offset, changing nothing', async () => {
    const before = (await api('GET', '/config', viewer)).json;
    const res = await api('PUT', '/config?lang=en', admin, {
      watches: [{ id: 'q', query: 'a (b' }],
      templates: [{ id: 't', category: 'thanks', text: '{nope}' }],
    });
    expect(res.status).toBe(422);
    expect(res.json?.error).toBe('invalid');
    expect(res.json?.problems).toEqual(
      expect.arrayContaining([
        { path: 'watches[0].query', message: expect.any(String), offset: 2 },
        { path: 'templates[0].text', message: expect.stringContaining('{nope}'), offset: 0 },
      ]),
    );
    expect((await api('GET', '/config', viewer)).json).toEqual(before);
  });

  it('says every problem in Japanese to a Japanese reader', async () => {
    const res = await api('PUT', '/config?lang=ja', admin, {
      watches: [{ id: 'Q', query: 'a (b' }],
      templates: [{ id: 't', category: 'thanks', text: '{nope}', language: 'English' }],
      suppression: { maxAgeHours: -1 },
    });
    expect(res.status).toBe(422);
    const problems = (res.json?.problems ?? []) as { path: string; message: string }[];
    expect(problems.map((p) => p.path)).toEqual([
      'watches[0].id',
      'watches[0].query',
      'templates[0].language',
      'templates[0].text',
      'suppression.maxAgeHours',
    ]);
    for (const p of problems) expect(englishIn(p.message), p.message).toEqual([]);
  });

  it('answers 400 to a body that is not JSON and 409 when someone saved meanwhile', async () => {
    const bad = await api('PUT', '/config', admin, '{"watches": [');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'bad_request', problems: [{ path: '(root)' }] });
    const { version } = (await api('GET', '/config', viewer)).json as { version: number };
    const stale = await api('PUT', `/config?expectedVersion=${version - 1}`, admin, { watches: [] });
    expect(stale.status).toBe(409);
    expect(stale.json?.error).toBe('conflict');
    const fresh = await api(
      'PUT',
      `/config?expectedVersion=${version}`,
      admin,
      (await api('GET', '/config', viewer)).json?.config,
    );
    expect(fresh.status).toBe(200);
  });
});

describe('/api/watches, /api/templates, /api/escalation', () => {
  it('creates, reads, replaces and deletes a watch', async () => {
    const created = await api('POST', '/watches', editor, {
      id: 'login',
      query: 'ログイン できない',
      platforms: ['x'],
    });
    expect(created.status).toBe(201);
    expect(created.json?.item).toEqual({
      id: 'login',
      query: 'ログイン できない',
      platforms: ['x'],
      enabled: true,
    });
    expect((await api('POST', '/watches', editor, { id: 'login', query: 'x' })).status).toBe(409);
    expect((await api('GET', '/watches/login', viewer)).json?.item.query).toBe('ログイン できない');
    expect((await api('GET', '/watches/nope', viewer)).status).toBe(404);
    const list = await api('GET', '/watches', viewer);
    expect(list.json?.watches.map((w: { id: string }) => w.id)).toContain('login');
    const put = await api('PUT', '/watches/login', editor, {
      query: 'ログイン OR サインイン',
      enabled: false,
    });
    expect(put.status).toBe(200);
    expect((await api('GET', '/watches/login', viewer)).json?.item).toEqual({
      id: 'login',
      query: 'ログイン OR サインイン',
      enabled: false,
    });
    expect((await api('PUT', '/watches/login', editor, { id: 'other', query: 'x' })).status).toBe(422);
    const del = await api('DELETE', '/watches/login', editor);
    expect(del.status).toBe(200);
    expect((await api('DELETE', '/watches/login', editor)).status).toBe(404);
  });

  it('gives problems relative to the item, with the query offset, in the caller’s language', async () => {
    const res = await api('POST', '/watches?lang=en', editor, { id: 'Bad', query: 'ログイン NOT できない' });
    expect(res.status).toBe(422);
    expect(res.json?.problems).toEqual(
      expect.arrayContaining([
        { path: 'id', message: expect.stringContaining('lower-case') },
        { path: 'query', message: expect.stringContaining('NOT is not an operator'), offset: 5 },
      ]),
    );
    const ja = await api('POST', '/watches?lang=ja', editor, { id: 'ok', query: 'a OR' });
    expect(ja.json?.problems[0]).toMatchObject({
      path: 'query',
      message: 'OR の前後に語が必要です',
      offset: 2,
    });
  });

  it('refuses to delete a watch others refer to', async () => {
    await api('POST', '/watches', editor, { id: 'ref', query: 'ref' });
    await api('POST', '/templates', editor, {
      id: 'for-ref',
      category: 'thanks',
      text: 'どうも',
      watches: ['ref'],
    });
    const res = await api('DELETE', '/watches/ref?lang=en', editor);
    expect(res.status).toBe(422);
    expect(res.json?.problems[0]).toMatchObject({
      path: 'templates[1].watches[0]',
      message: 'no watch has the id "ref"',
    });
  });

  it('does the same for templates and escalation rules', async () => {
    const template = await api('PUT', '/templates/sorry', editor, {
      category: 'apology',
      platform: 'x',
      text: '{author.name}さん、申し訳ありません',
    });
    expect(template.status).toBe(200);
    const badTemplate = await api('POST', '/templates?lang=en', editor, {
      id: 'bad',
      category: 'thanks',
      text: 'hi {author.nmae}',
    });
    expect(badTemplate.json?.problems).toEqual([
      { path: 'text', message: expect.stringContaining('did you mean {author.name}?'), offset: 3 },
    ]);
    const rule = await api('POST', '/escalation', editor, {
      id: 'billing',
      when: { query: '課金', intents: ['complaint'] },
      actions: { route: 'billing', mentionRoles: ['billing'] },
    });
    expect(rule.status).toBe(201);
    const badRule = await api('POST', '/escalation?lang=en', editor, {
      id: 'r2',
      when: { query: '"open' },
      actions: {},
    });
    expect(badRule.json?.problems).toEqual([{ path: 'when.query', message: expect.any(String), offset: 0 }]);
    expect((await api('DELETE', '/escalation/billing', editor)).status).toBe(200);
    expect((await api('GET', '/templates/sorry', viewer)).json?.item.text).toBe(
      '{author.name}さん、申し訳ありません',
    );
  });
});

describe('/api/suppression, /api/routing, /api/discord', () => {
  it('reads and replaces suppression and routing, with problems by path', async () => {
    const put = await api('PUT', '/suppression', editor, {
      ownAccounts: [{ platform: 'x', handle: 'booklog' }],
      dailyReplyCap: { x: 10 },
    });
    expect(put.status).toBe(200);
    expect((await api('GET', '/suppression', viewer)).json?.suppression).toMatchObject({
      ownAccounts: [{ platform: 'x', handle: 'booklog' }],
      maxAgeHours: 48,
      dailyReplyCap: { x: 10 },
    });
    const bad = await api('PUT', '/suppression', editor, { linkedAuthors: [['facebook:a', 'x:b']] });
    expect(bad.status).toBe(422);
    expect(bad.json?.problems[0].path).toBe('linkedAuthors[0][0]');
    const routing = await api('PUT', '/routing', editor, {
      defaultReviewChannel: 'review',
      watches: { ghost: 'x' },
    });
    expect(routing.status).toBe(422);
    expect(routing.json?.problems[0].path).toBe('watches.ghost');
    expect((await api('PUT', '/routing', editor, { defaultReviewChannel: 'inbox' })).status).toBe(200);
    expect((await api('GET', '/routing', viewer)).json?.routing.defaultReviewChannel).toBe('inbox');
  });

  it('reads Discord settings with the names still to bind; admins replace them', async () => {
    const get = await api('GET', '/discord', viewer);
    expect(get.json?.references.unboundChannels).toContain('inbox');
    const bad = await api('PUT', '/discord', admin, { guildId: 'abc', channels: { inbox: '#1' } });
    expect(bad.status).toBe(422);
    expect(bad.json?.problems.map((p: { path: string }) => p.path).sort()).toEqual([
      'channels.inbox',
      'guildId',
    ]);
    const ok = await api('PUT', '/discord', admin, { guildId: '1', channels: { inbox: '2' }, locale: 'en' });
    expect(ok.status).toBe(200);
    expect((await api('GET', '/discord', viewer)).json?.references.unboundChannels).toEqual([]);
  });
});

describe('/api/accounts', () => {
  it('connects, reads, changes, tests and removes an account, never returning a secret', async () => {
    const secret = {
      kind: 'oauth1',
      appKey: 'API-KEY-abcdef',
      appSecret: 'API-SECRET-ghijkl',
      accessToken: x.bearerToken,
      accessSecret: 'ACCESS-SECRET-mnopqr',
    };
    const created = await api('POST', '/accounts', admin, {
      platform: 'x',
      label: 'api',
      baseUrl: x.url,
      credentials: secret,
      pollIntervalSeconds: 90,
    });
    expect(created.status).toBe(201);
    const id = created.json?.account.id as string;
    expect(created.json?.account).toMatchObject({
      platform: 'x',
      label: 'api',
      pollIntervalSeconds: 90,
      usage: { postsRead: 0, estimatedCostUsd: 0 },
    });
    for (const response of [
      created,
      await api('GET', '/accounts', viewer),
      await api('GET', `/accounts/${id}`, viewer),
    ]) {
      for (const value of Object.values(secret))
        if (value !== 'oauth1') expect(response.text).not.toContain(value);
      expect(response.text).not.toContain('credentials');
    }
    const test = await api('POST', `/accounts/${id}/test`, admin);
    expect(test.json).toMatchObject({ ok: true, identity: { handle: 'kikimimi_help' } });
    expect((await api('GET', `/accounts/${id}`, viewer)).json?.account.handle).toBe('kikimimi_help');

    const patched = await api('PATCH', `/accounts/${id}`, admin, {
      enabled: false,
      credentials: { kind: 'oauth2', accessToken: 'WRONG-token-123' },
    });
    expect(patched.status).toBe(200);
    expect(patched.json?.account).toMatchObject({ enabled: false, handle: null });
    const failed = await api('POST', `/accounts/${id}/test?lang=en`, admin);
    expect(failed.json).toMatchObject({ ok: false, error: { kind: 'auth_failed' } });
    expect(failed.text).not.toContain('WRONG-token-123');

    expect((await api('DELETE', `/accounts/${id}`, admin)).status).toBe(200);
    expect((await api('GET', `/accounts/${id}`, viewer)).status).toBe(404);
  });

  it('validates accounts like the forms', async () => {
    const res = await api('POST', '/accounts', admin, {
      platform: 'x',
      label: '',
      credentials: { kind: 'oauth1', appKey: 'k' },
    });
    expect(res.status).toBe(422);
    expect(res.json?.problems.map((p: { path: string }) => p.path)).toEqual(['label']);
    const creds = await api('POST', '/accounts', admin, {
      platform: 'x',
      label: 'c',
      credentials: { kind: 'oauth1', appKey: 'k' },
    });
    expect(creds.json?.problems.map((p: { path: string }) => p.path).sort()).toEqual([
      'credentials.accessSecret',
      'credentials.accessToken',
      'credentials.appSecret',
    ]);
    const mastodon = await api('POST', '/accounts', admin, {
      platform: 'mastodon',
      label: 'm',
      credentials: { accessToken: 't' },
    });
    expect(mastodon.json?.problems).toEqual([{ path: 'baseUrl', message: expect.any(String) }]);
    await api('POST', '/accounts', admin, {
      platform: 'mastodon',
      label: 'same',
      baseUrl: 'https://mstdn.jp',
      credentials: { accessToken: 't' },
    });
    const dup = await api('POST', '/accounts', admin, {
      platform: 'mastodon',
      label: 'same',
      baseUrl: 'https://mstdn.jp',
      credentials: { accessToken: 't' },
    });
    expect(dup.status).toBe(409);
  });
});

describe('/api/query/check and /api/templates/preview', () => {
  it('checks a query: ok, or the error with code, offset, length, line and column', async () => {
    expect((await api('POST', '/query/check', viewer, { query: 'ブクログ OR booklog' })).json).toEqual({
      ok: true,
    });
    const res = await api('POST', '/query/check?lang=en', viewer, { query: 'ブクログ\n(ログイン' });
    expect(res.json).toEqual({
      ok: false,
      error: {
        message: expect.any(String),
        offset: 5,
        length: 1,
        code: 'unclosed_paren',
        line: 2,
        column: 1,
      },
    });
    const ja = await api('POST', '/query/check?lang=ja', viewer, { query: 'a OR' });
    expect(ja.json?.error).toMatchObject({ code: 'dangling_or', message: 'OR の前後に語が必要です' });
    // The parser's hint comes in Japanese, or not at all: never in English in the Japanese console.
    expect(ja.json?.error).not.toHaveProperty('detail');
    const hint = await api('POST', '/query/check?lang=ja', viewer, { query: 'booklog from: x' });
    expect(hint.json?.error).toMatchObject({
      code: 'bad_operand',
      message: '演算子の値が正しくありません',
      detail: 'from: の直後に空白を入れずに値を書いてください（例: from:booklog_jp）。',
    });
    const operator = await api('POST', '/query/check?lang=ja', viewer, { query: 'booklog langg:ja' });
    expect(operator.json?.error.detail).toMatch(
      /^lang: のことですか？文字そのものを探すには引用符で囲んでください: "langg:ja"。$/u,
    );
    expect((await api('POST', '/query/check', viewer, { nope: 1 })).status).toBe(400);
  });

  it('answers the inline script’s form-encoded request from a signed-in page', async () => {
    const res = await t.request('/api/query/check', { as: 'viewer', form: { query: '-only' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Loose).error.code).toBe('no_positive_term');
  });

  it('renders a template with sample variables and measures it each platform’s way', async () => {
    await api('PUT', '/config', admin, {
      variables: { helpUrl: 'https://help.example.com/a/very/long/path/that/counts/as/23' },
      watches: [{ id: 'brand', name: 'ブクログ', query: 'ブクログ' }],
    });
    const res = await api('POST', '/templates/preview', viewer, {
      text: '{author.name}さん、{watch}のヘルプです {vars.helpUrl}',
      platform: '*',
    });
    expect(res.status).toBe(200);
    const text =
      '山田 花子さん、ブクログのヘルプです https://help.example.com/a/very/long/path/that/counts/as/23';
    expect(res.json?.previews).toEqual([
      {
        platform: 'x',
        text,
        length: measureReply(text, 'x').length,
        limit: 280,
        remaining: 280 - measureReply(text, 'x').length,
        ok: true,
        rendered: true,
      },
      {
        platform: 'mastodon',
        text,
        length: measureReply(`@hanako@mstdn.jp ${text}`, 'mastodon').length,
        limit: 500,
        remaining: expect.any(Number),
        ok: true,
        rendered: true,
      },
      {
        // Bluesky counts graphemes, links as written, and a reply needs no @mention in front.
        platform: 'bluesky',
        text,
        length: measureReply(text, 'bluesky').length,
        limit: 300,
        remaining: 300 - measureReply(text, 'bluesky').length,
        ok: true,
        rendered: true,
      },
    ]);
    const over = await api('POST', '/templates/preview', viewer, { text: 'あ'.repeat(141), platform: 'x' });
    expect(over.json?.previews[0]).toMatchObject({ length: 282, limit: 280, ok: false });
    const bad = await api('POST', '/templates/preview?lang=en', viewer, {
      text: 'a\n{vars.nope}',
      platform: 'mastodon',
    });
    expect(bad.json?.problems).toEqual([
      { code: 'unknown-placeholder', message: expect.any(String), offset: 2, length: 11, line: 2, column: 1 },
    ]);
    expect(bad.json?.previews[0].rendered).toBe(false);
  });
});
