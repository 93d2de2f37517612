import { loadConfig, type Post, type PostInput, postSchema } from '@kikimimi/rules';
import { startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// Until the lead adds `posts` to createRepositories (then this is a no-op).
import { createTestApp, type TestApp } from './harness.ts';

let t: TestApp;
let x: XSandbox;
const NOW = new Date('2026-11-24T09:00:00.000Z');

const BASE = {
  watches: [{ id: 'brand', name: 'ブクログ', query: 'ブクログ OR booklog' }],
  templates: [{ id: 'sorry', category: 'apology', text: '{author.name}さん、ご不便をおかけしております。' }],
  suppression: { ownAccounts: [{ platform: 'x', handle: 'booklog_official' }] },
};

function post(id: string, text: string, extra: Partial<PostInput> = {}): Post {
  return postSchema.parse({
    platform: 'x',
    id,
    url: `https://x.com/someone/status/${id}`,
    author: { id: `a-${id}`, handle: `user${id}`, displayName: `User ${id}`, followers: 10 },
    text,
    createdAt: new Date(NOW.getTime() - Number(id) * 60_000).toISOString(),
    ...extra,
  });
}

/** The text of the error shown next to a field. */
function fieldError(body: string, path: string): string | undefined {
  const match = new RegExp(`data-field="${path.replace(/[[\]]/gu, '\\$&')}">([^<]*)<`, 'u').exec(body);
  return match?.[1]
    ?.replace(/&quot;/gu, '"')
    .replace(/&#39;/gu, "'")
    .replace(/&amp;/gu, '&');
}

const versions = async () => (await t.repos.config.current()).version;

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  x = await startXSandbox();
  await t.repos.config.replace(BASE, { kind: 'system', id: 'test', name: 'test' });
  const loaded = loadConfig(BASE);
  if (!loaded.ok) throw new Error('bad base config');
  const stored = [
    post('1', 'ブクログにログインできない…'),
    post('2', 'ブクログ最高！毎日使ってます'),
    post('3', '今日はいい天気'),
    post('4', 'ログインできない 助けて', {
      author: { id: 'own', handle: 'booklog_official', displayName: 'ブクログ', followers: 9000 },
    }),
    post('5', 'booklog の新機能いいね'),
  ];
  await t.repos.ingest.storeBatch(
    null,
    stored.map((p) => ({ post: p, decision: loaded.engine.decide(p, { now: NOW }) })),
    undefined,
    NOW,
  );
});
afterAll(async () => {
  await x?.close();
  await t?.close();
});

describe('/watches: who may do what', () => {
  it('sends a signed-out visitor to the login', async () => {
    for (const path of ['/watches', '/watches/brand', '/watches/new', '/watches/brand/preview']) {
      const res = await t.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it('lets a viewer read, not change', async () => {
    const list = await t.request('/watches', { as: 'viewer' });
    expect(list.status).toBe(200);
    const body = await list.text();
    expect(body).toContain('ブクログ OR booklog');
    expect(body).not.toContain('href="/watches/new"');
    const one = await (await t.request('/watches/brand', { as: 'viewer' })).text();
    expect(one).toContain('<fieldset disabled>');
    expect(one).not.toContain('value="save"');
    const before = await versions();
    for (const [path, form] of [
      ['/watches', { id: 'new1', query: 'abc', action: 'save' }],
      ['/watches/brand/toggle', {}],
      ['/watches/brand/delete', {}],
    ] as const) {
      expect((await t.request(path, { as: 'viewer', form })).status, path).toBe(403);
    }
    expect((await t.request('/watches/new', { as: 'viewer' })).status).toBe(403);
    expect(await versions()).toBe(before);
  });

  it('refuses changes without the CSRF token', async () => {
    const before = await versions();
    const form = { id: 'csrf1', query: 'abc', enabled: 'on', action: 'save' };
    expect((await t.request('/watches', { as: 'editor', form, csrf: false })).status).toBe(403);
    expect((await t.request('/watches', { as: 'editor', form, csrf: 'forged' })).status).toBe(403);
    expect((await t.request('/watches/brand/toggle', { as: 'editor', form: {}, csrf: false })).status).toBe(
      403,
    );
    expect(
      (await t.request('/watches/brand/delete', { as: 'editor', form: {}, csrf: 'forged' })).status,
    ).toBe(403);
    expect(await versions()).toBe(before);
  });
});

describe('/watches: list and form', () => {
  it('filters by platform', async () => {
    await t.repos.config.upsertWatch(
      { id: 'masto-only', query: '#ブクログ', platforms: ['mastodon'] },
      { kind: 'system', id: 't', name: 't' },
    );
    const all = await (await t.request('/watches', { as: 'viewer' })).text();
    expect(all).toContain('id="watch-masto-only"');
    const onX = await (await t.request('/watches?platform=x', { as: 'viewer' })).text();
    expect(onX).not.toContain('id="watch-masto-only"');
    expect(onX).toContain('id="watch-brand"');
    const onMastodon = await (await t.request('/watches?platform=mastodon', { as: 'viewer' })).text();
    expect(onMastodon).toContain('id="watch-masto-only"');
    expect(onMastodon).toContain('id="watch-brand"'); // no platforms: every platform
  });

  it('shows the X query the watch compiles to with its length against 512, and the Mastodon hashtags', async () => {
    const body = await (await t.request('/watches/brand?lang=en', { as: 'viewer' })).text();
    expect(body).toContain('<code>((ブクログ OR ぶくろぐ) OR booklog) -is:retweet</code>');
    expect(body).toMatch(/\d+ \/ 512 characters/u);
    expect(body).toContain('<code>#ブクログ</code>');
    expect(body).toContain('<code>#booklog</code>');
  });

  it('warns when a watch relies on Mastodon’s full-text search (terms that cannot be hashtags), by name', async () => {
    const brand = await (await t.request('/watches/brand?lang=en', { as: 'viewer' })).text();
    expect(brand).not.toContain('data-warning="mastodon-search-only"');
    await t.repos.config.upsertWatch(
      { id: 'phrase-only', query: '"shiori note" OR ブクログ', platforms: ['mastodon'] },
      { kind: 'system', id: 't', name: 't' },
    );
    const phrase = await (await t.request('/watches/phrase-only', { as: 'viewer' })).text();
    expect(phrase).toContain('data-warning="mastodon-search-only"');
    expect(phrase).toContain('「shiori note」 は Mastodon ではハッシュタグとして追えず');
    expect(phrase).not.toContain('「ブクログ」');
  });

  it('has the live syntax check wired to the query (and works without it)', async () => {
    const body = await (await t.request('/watches/new', { as: 'editor' })).text();
    expect(body).toContain('data-query-check="query-status"');
    expect(body).toMatch(/<script nonce="[^"]+">[^<]*\/api\/query\/check/u);
  });

  it('returns 404 for a watch that does not exist', async () => {
    expect((await t.request('/watches/nope', { as: 'viewer' })).status).toBe(404);
  });
});

describe('/watches: saving', () => {
  let published: number;
  beforeEach(() => {
    published = t.published;
  });

  it('creates a watch: a new version by the web user, audited, workers told', async () => {
    const session = await t.login('editor');
    const res = await t.request('/watches', {
      as: session,
      form: {
        originalId: '',
        id: 'login',
        name: 'ログイン',
        query: 'ログイン できない',
        platforms: ['x'],
        languages: 'ja',
        enabled: 'on',
        action: 'save',
      },
    });
    expect(res.status).toBe(303);
    const current = await t.repos.config.current();
    expect(res.headers.get('location')).toBe(`/watches/login?done=created&v=${current.version}`);
    expect(current.config.watches.find((w) => w.id === 'login')).toEqual({
      id: 'login',
      name: 'ログイン',
      query: 'ログイン できない',
      platforms: ['x'],
      languages: ['ja'],
      enabled: true,
    });
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry).toMatchObject({
      action: 'config.watch.upsert',
      actor: { kind: 'web', id: session.user.id, name: session.user.username },
    });
    expect(t.published).toBe(published + 1);
    const page = await (await t.request(res.headers.get('location') as string, { as: session })).text();
    expect(page).toContain('role="status"');
  });

  it('shows a query syntax error next to the field with its position and marks it, saving nothing', async () => {
    const before = await versions();
    const res = await t.request('/watches?lang=en', {
      as: 'editor',
      form: { originalId: '', id: 'broken', query: 'ブクログ (ログイン OR', enabled: 'on', action: 'save' },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(fieldError(body, 'query')).toMatch(/line 1, column \d+/u);
    expect(body).toContain('<pre class="excerpt">');
    expect(body).toContain('value="broken"'); // what was typed stays
    expect(await versions()).toBe(before);
    expect(t.published).toBe(published);

    const ja = await (
      await t.request('/watches', {
        as: 'editor',
        headers: { 'Accept-Language': 'ja' },
        form: { id: 'broken', query: 'ログイン NOT できない', action: 'save' },
      })
    ).text();
    expect(fieldError(ja, 'query')).toMatch(/NOT は使えません.*1 行目/u);
  });

  it('checks every field with the shared schema, in the user’s language', async () => {
    const before = await versions();
    const body = await (
      await t.request('/watches', {
        as: 'editor',
        headers: { 'Accept-Language': 'ja' },
        form: { originalId: '', id: 'Bad Id', query: '', languages: 'japanese', action: 'save' },
      })
    ).text();
    expect(fieldError(body, 'id')).toMatch(/英小文字/u);
    expect(fieldError(body, 'query')).toBeTruthy();
    expect(fieldError(body, 'languages')).toBeTruthy();
    expect(body).toMatch(/3 件の問題があります/u);
    expect(await versions()).toBe(before);
  });

  it('refuses an id already used by another watch, and renaming', async () => {
    const taken = await (
      await t.request('/watches?lang=en', {
        as: 'editor',
        form: { originalId: '', id: 'brand', query: 'x', action: 'save' },
      })
    ).text();
    expect(fieldError(taken, 'id')).toBe('The id "brand" is already used.');
    const rename = await (
      await t.request('/watches?lang=en', {
        as: 'editor',
        form: { originalId: 'brand', id: 'brand2', query: 'x', action: 'save' },
      })
    ).text();
    expect(fieldError(rename, 'id')).toMatch(/cannot change/u);
    expect((await t.repos.config.current()).config.watches.find((w) => w.id === 'brand')?.query).toBe(
      'ブクログ OR booklog',
    );
  });

  it('shows problems the whole configuration finds (an X query too long for 512)', async () => {
    const before = await versions();
    // One AND clause cannot be split over several X queries.
    const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
    const body = await (
      await t.request('/watches?lang=en', {
        as: 'editor',
        form: { id: 'huge', query: long, enabled: 'on', action: 'save' },
      })
    ).text();
    expect(fieldError(body, 'query')).toMatch(/X allows 512/u);
    expect(await versions()).toBe(before);
  });

  it('toggles a watch on and off', async () => {
    const off = await t.request('/watches/brand/toggle', { as: 'editor', form: {} });
    expect(off.status).toBe(303);
    expect(off.headers.get('location')).toMatch(/^\/watches\?done=disabled&v=\d+#watch-brand$/u);
    expect((await t.repos.config.current()).config.watches.find((w) => w.id === 'brand')?.enabled).toBe(
      false,
    );
    await t.request('/watches/brand/toggle', { as: 'editor', form: {} });
    expect((await t.repos.config.current()).config.watches.find((w) => w.id === 'brand')?.enabled).toBe(true);
    expect(t.published).toBe(published + 2);
  });

  it('asks before deleting, refuses to delete a watch others refer to, and deletes', async () => {
    const confirm = await t.request('/watches/masto-only/delete', { as: 'editor' });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('action="/watches/masto-only/delete"');

    await t.repos.config.upsertTemplate(
      { id: 'for-login', category: 'thanks', text: 'ありがとう', watches: ['login'] },
      { kind: 'system', id: 't', name: 't' },
    );
    const before = await versions();
    const refused = await t.request('/watches/login/delete', { as: 'editor', form: {} });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('templates[');
    expect(await versions()).toBe(before);
    await t.repos.config.removeTemplate('for-login', { kind: 'system', id: 't', name: 't' });

    const res = await t.request('/watches/masto-only/delete', { as: 'editor', form: {} });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.watches.some((w) => w.id === 'masto-only')).toBe(false);
    expect((await t.request('/watches/nope/delete', { as: 'editor', form: {} })).status).toBe(404);
  });
});

describe('/watches: preview', () => {
  it('dry-runs the unsaved form over stored posts: which match and why, suppression included', async () => {
    const before = await versions();
    const res = await t.request('/watches?lang=en', {
      as: 'editor',
      form: { originalId: '', id: 'trouble', query: 'ログイン できない', enabled: '', action: 'preview' },
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('2 of 5 posts match');
    expect(body).toContain('not saved');
    expect(body).toContain('ブクログにログインできない…');
    expect(body).toMatch(/Intent: <strong>trouble<\/strong>/u);
    expect(body).toContain('ログインでき');
    expect(body).toMatch(/Suppressed: our own account/u);
    expect(body).not.toContain('今日はいい天気');
    expect(await versions()).toBe(before);
  });

  it('lets a viewer preview a saved watch', async () => {
    const res = await t.request('/watches/brand/preview?lang=en', { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('3 of 5 posts match');
    expect(body).toContain('The saved watch over the 500 newest stored posts');
    expect(body).toContain('booklog の新機能いいね');
  });

  it('does not preview an invalid watch', async () => {
    const res = await t.request('/watches', {
      as: 'editor',
      form: { id: 'p', query: '"unclosed', action: 'preview' },
    });
    expect(res.status).toBe(422);
    expect(fieldError(await res.text(), 'query')).toBeTruthy();
  });

  it('fetches once from a connected account, clearly labelled, storing nothing', async () => {
    x.addPost({ text: 'ブクログにログインできない、なぜ', author: { handle: 'hanako', name: '花子' } });
    x.addPost({ text: 'ブクログで本を登録した', author: { handle: 'taro', name: '太郎' } });
    const account = await t.repos.accounts.create(
      {
        platform: 'x',
        label: 'sandbox',
        baseUrl: x.url,
        credentials: { kind: 'oauth2', accessToken: x.bearerToken },
      },
      { kind: 'system', id: 't', name: 't' },
    );
    const storedBefore = (await t.db.pool.query('SELECT count(*)::int AS n FROM posts')).rows[0].n;
    const res = await t.request('/watches?lang=en', {
      as: 'editor',
      form: {
        originalId: 'brand',
        id: 'brand',
        query: 'ブクログ',
        enabled: 'on',
        action: 'fetch',
        account: account.id,
      },
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(body).toContain('Fetched just now from the X account &quot;sandbox&quot; (not stored)');
    expect(body).toMatch(/2 posts fetched \(\d+ read\), 2 match/u);
    expect(body).toContain('ブクログにログインできない、なぜ');
    expect(body).toContain('Estimated X cost');
    expect(body).not.toContain(x.bearerToken);
    expect((await t.db.pool.query('SELECT count(*)::int AS n FROM posts')).rows[0].n).toBe(storedBefore);
  });

  it('explains a failed fetch without the token', async () => {
    const account = await t.repos.accounts.create(
      {
        platform: 'x',
        label: 'wrong-token',
        baseUrl: x.url,
        credentials: { kind: 'oauth2', accessToken: 'not-the-token-123' },
      },
      { kind: 'system', id: 't', name: 't' },
    );
    const res = await t.request('/watches?lang=en', {
      as: 'editor',
      form: {
        originalId: 'brand',
        id: 'brand',
        query: 'ブクログ',
        enabled: 'on',
        action: 'fetch',
        account: account.id,
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toMatch(/refused the credentials/u);
    expect(body).not.toContain('not-the-token-123');
  });
});
