import { createRestAPIClient, createStreamingAPIClient, MastoHttpError, type mastodon } from 'masto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type MastodonSandbox, type MastodonStatusJson, startMastodonSandbox } from './mastodon-sandbox.ts';
import { formatStatusHtml } from './status-html.ts';

let sandbox: MastodonSandbox;

beforeEach(async () => {
  sandbox = await startMastodonSandbox();
});
afterEach(async () => {
  await sandbox.close();
});

async function api(path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = sandbox.accessToken, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(`${sandbox.url}${path}`, { ...rest, headers });
  const text = await response.text();
  const body: unknown = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body };
}

const ids = (body: unknown) => (body as MastodonStatusJson[]).map((s) => s.id);
const post = (text: string, handle = 'alice') => sandbox.addPost({ text, author: { handle } });
const postJson = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api('/api/v1/statuses', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('hashtag timeline', () => {
  it('pages newest first with a Link header like Mastodon (next: max_id of the oldest, prev: min_id of the newest)', async () => {
    const all = Array.from({ length: 5 }, (_, i) => post(`#cats ${i}`));
    const page = await api('/api/v1/timelines/tag/cats?limit=2');
    expect(ids(page.body)).toEqual([all[4], all[3]]);
    expect(page.headers.get('link')).toBe(
      `<${sandbox.url}/api/v1/timelines/tag/cats?limit=2&max_id=${all[3]}>; rel="next", ` +
        `<${sandbox.url}/api/v1/timelines/tag/cats?limit=2&min_id=${all[4]}>; rel="prev"`,
    );
    const older = await api(`/api/v1/timelines/tag/cats?limit=2&max_id=${all[3]}`);
    expect(ids(older.body)).toEqual([all[2], all[1]]);
  });

  it.each([
    [
      'min_id pages forward: the items just after it, still newest first',
      'min_id=A0&limit=2',
      [1, 2].reverse(),
    ],
    ['since_id gives the newest items after it', 'since_id=A0&limit=2', [4, 3]],
    ['max_id gives the newest items before it', 'max_id=A3&limit=2', [2, 1]],
    ['min_id and max_id together bound both ends', 'min_id=A0&max_id=A3&limit=5', [2, 1]],
    ['since_id is ignored when min_id is given', 'min_id=A2&since_id=A0&limit=1', [3]],
  ])('%s', async (_name, query, expected) => {
    const all = Array.from({ length: 5 }, (_, i) => post(`#cats ${i}`));
    const resolved = query.replace(/A(\d)/gu, (_m, i: string) => all[Number(i)] as string);
    const page = await api(`/api/v1/timelines/tag/cats?${resolved}`);
    expect(ids(page.body)).toEqual(expected.map((i) => all[i]));
  });

  it('sends no Link header for an empty page, caps limit at 40 and defaults to 20', async () => {
    const empty = await api('/api/v1/timelines/tag/nothing');
    expect(empty.body).toEqual([]);
    expect(empty.headers.get('link')).toBeNull();
    for (let i = 0; i < 45; i++) post(`#many ${i}`);
    expect(ids((await api('/api/v1/timelines/tag/many?limit=100')).body)).toHaveLength(40);
    expect(ids((await api('/api/v1/timelines/tag/many')).body)).toHaveLength(20);
  });

  it('matches tags case-insensitively and lists only public statuses', async () => {
    const shown = post('#KikiMimi loud');
    sandbox.addPost({ text: '#kikimimi quiet', author: { handle: 'bob' }, visibility: 'unlisted' });
    const page = await api('/api/v1/timelines/tag/KIKIMIMI');
    expect(ids(page.body)).toEqual([shown]);
  });

  it('leaves reblogs out, as Mastodon does, unless told to list them', async () => {
    const original = post('#cats original');
    const reblog = sandbox.addPost({ text: '', author: { handle: 'booster' }, repostOf: original });
    expect(ids((await api('/api/v1/timelines/tag/cats')).body)).toEqual([original]);

    const listing = await startMastodonSandbox({ reblogsInTagTimelines: true });
    try {
      const first = listing.addPost({ text: '#cats original', author: { handle: 'alice' } });
      const second = listing.addPost({
        text: '',
        author: { handle: 'booster@remote.example' },
        repostOf: first,
      });
      const response = await fetch(`${listing.url}/api/v1/timelines/tag/cats`);
      const statuses = (await response.json()) as MastodonStatusJson[];
      expect(statuses.map((s) => s.id)).toEqual([second, first]);
      expect(statuses[0]?.reblog?.id).toBe(first);
      expect(statuses[0]?.content).toBe('');
      expect(statuses[0]?.url).toBeNull();
      expect(statuses[0]?.uri).toMatch(/\/activity$/u);
    } finally {
      await listing.close();
    }
    expect(reblog).not.toBe(original);
  });
});

describe('status content', () => {
  it('renders text as Mastodon HTML: paragraphs, <br />, shortened links, mention and hashtag anchors, escapes', async () => {
    post('hello', 'bob@remote.example');
    const id = post(
      '#Kikimimi ログインできません <b>&\n詳細 https://www.example.com/help/login/trouble?from=mastodon&x=1\n\n@bob@remote.example @nobody_here',
    );
    const status = sandbox.statuses().find((s) => s.id === id);
    expect(status?.content).toBe(
      '<p><a href="https://mastodon.example/tags/kikimimi" class="mention hashtag" rel="tag">#<span>Kikimimi</span></a> ' +
        'ログインできません &lt;b&gt;&amp;<br />詳細 ' +
        '<a href="https://www.example.com/help/login/trouble?from=mastodon&amp;x=1" target="_blank" rel="nofollow noopener" translate="no">' +
        '<span class="invisible">https://www.</span><span class="ellipsis">example.com/help/login/trouble</span>' +
        '<span class="invisible">?from=mastodon&amp;x=1</span></a></p>' +
        '<p><span class="h-card" translate="no"><a href="https://remote.example/@bob" class="u-url mention">@<span>bob</span></a></span> ' +
        '<span class="h-card" translate="no"><a href="https://mastodon.example/@nobody_here" class="u-url mention">@<span>nobody_here</span></a></span></p>',
    );
    expect(status?.mentions.map((m) => m.acct)).toEqual(['bob@remote.example', 'nobody_here']);
    expect(status?.tags).toEqual([{ name: 'kikimimi', url: 'https://mastodon.example/tags/kikimimi' }]);
  });

  it('leaves unresolvable mentions as text', () => {
    expect(formatStatusHtml('hi @ghost', { domain: 'm.example', resolveMention: () => undefined })).toBe(
      '<p>hi @ghost</p>',
    );
  });
});

describe('search', () => {
  it('finds statuses containing the query, newest first, min_id as a whole-second lower bound, offset for more', async () => {
    const found = [
      post('Kikimimi is down'),
      post('nothing'),
      post('I love KIKIMIMI'),
      post('kikimimi again'),
    ];
    const all = await api('/api/v2/search?q=kikimimi&type=statuses');
    expect(all.body).toMatchObject({ accounts: [], hashtags: [] });
    const statuses = (all.body as { statuses: MastodonStatusJson[] }).statuses;
    expect(statuses.map((s) => s.id)).toEqual([found[3], found[2], found[0]]);
    const paged = await api('/api/v2/search?q=kikimimi&type=statuses&limit=1&offset=1');
    expect((paged.body as { statuses: MastodonStatusJson[] }).statuses.map((s) => s.id)).toEqual([found[2]]);
    // Real servers turn min_id into `after:"<its second>"`, so the same second comes back.
    const after = await api(`/api/v2/search?q=kikimimi&type=statuses&min_id=${found[3]}`);
    const again = (after.body as { statuses: MastodonStatusJson[] }).statuses.map((s) => s.id);
    expect(again).toContain(found[3]);
  });

  it('needs a user token', async () => {
    expect((await api('/api/v2/search?q=x&type=statuses', { token: null })).status).toBe(401);
  });

  it.each(['4.3.0', '4.3.1'])(
    'on %s refuses min_id and max_id with 422 "Invalid date" (mastodon#32731)',
    async (version) => {
      await sandbox.close();
      sandbox = await startMastodonSandbox({ version });
      const id = post('kikimimi');
      for (const param of ['min_id', 'max_id']) {
        const answer = await api(`/api/v2/search?q=kikimimi&type=statuses&${param}=${id}`);
        expect(answer.status).toBe(422);
        expect((answer.body as { error: string }).error).toMatch(
          /^Invalid date \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/u,
        );
      }
      expect((await api('/api/v2/search?q=kikimimi&type=statuses')).status).toBe(200);
      expect(((await api('/api/v2/instance')).body as { version: string }).version).toBe(version);
    },
  );
});

describe('late federation', () => {
  it('gives a remote status the id of its creation time, so it sorts below statuses that arrived before it', async () => {
    const local = sandbox.addPost({ text: '#late now', author: { handle: 'here' } });
    const late = sandbox.addPost({
      text: '#late from a busy server',
      author: { handle: 'yuki@big.example' },
      createdAt: new Date(Date.now() - 5 * 60 * 1000),
    });
    expect(BigInt(late) < BigInt(local)).toBe(true);
    const timeline = await api('/api/v1/timelines/tag/late');
    expect((timeline.body as MastodonStatusJson[]).map((s) => s.id)).toEqual([local, late]);
    const after = await api(`/api/v1/timelines/tag/late?min_id=${local}`);
    expect(after.body).toEqual([]);
  });

  it('keeps ids of local statuses at the time they are posted', async () => {
    const first = sandbox.addPost({ text: 'a', author: { handle: 'here' } });
    const second = sandbox.addPost({
      text: 'b',
      author: { handle: 'here' },
      createdAt: new Date(Date.now() - 60_000),
    });
    expect(BigInt(second) > BigInt(first)).toBe(true);
  });
});

describe('notifications', () => {
  it('turns a status that mentions the account into a mention notification, paged by notification id', async () => {
    post('no mention here');
    const first = post('@kikimimi_support ログインできない', 'carol');
    const second = post('@kikimimi_support@mastodon.example help', 'dave@remote.example');
    const response = await api('/api/v1/notifications?types[]=mention&limit=1');
    const [newest] = response.body as {
      id: string;
      type: string;
      status: { id: string };
      account: { acct: string };
    }[];
    expect(newest).toMatchObject({
      type: 'mention',
      status: { id: second },
      account: { acct: 'dave@remote.example' },
    });
    const link = response.headers.get('link') ?? '';
    expect(link).toContain('types%5B%5D=mention');
    const prev = /<([^>]+)>; rel="prev"/u.exec(link)?.[1] ?? '';
    expect(new URL(prev).searchParams.get('min_id')).toBe(newest?.id);
    const next = /<([^>]+)>; rel="next"/u.exec(link)?.[1] ?? '';
    const older = await api(next.slice(sandbox.url.length));
    expect((older.body as { status: { id: string } }[]).map((n) => n.status.id)).toEqual([first]);
    const forward = await api(
      `/api/v1/notifications?types[]=mention&min_id=${(older.body as { id: string }[])[0]?.id}`,
    );
    expect((forward.body as { status: { id: string } }[]).map((n) => n.status.id)).toEqual([second]);
  });
});

describe('posting', () => {
  it('posts a reply (JSON or form body) and records it', async () => {
    const target = post('#help please');
    const json = await postJson({ status: '@alice hello', in_reply_to_id: target, visibility: 'unlisted' });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      in_reply_to_id: target,
      visibility: 'unlisted',
      account: { acct: 'kikimimi_support' },
    });
    const form = await api('/api/v1/statuses', {
      method: 'POST',
      body: new URLSearchParams({ status: '@alice again', in_reply_to_id: target }),
    });
    expect(form.status).toBe(200);
    expect(sandbox.replies().map((r) => [r.inReplyTo, r.text, r.visibility])).toEqual([
      [target, '@alice hello', 'unlisted'],
      [target, '@alice again', null],
    ]);
  });

  it('honours Idempotency-Key: the same key gives the same status back and posts nothing new', async () => {
    const target = post('question');
    const first = await postJson({ status: 'answer', in_reply_to_id: target }, { 'idempotency-key': 'k1' });
    const again = await postJson({ status: 'answer', in_reply_to_id: target }, { 'idempotency-key': 'k1' });
    const other = await postJson({ status: 'answer', in_reply_to_id: target }, { 'idempotency-key': 'k2' });
    expect((again.body as MastodonStatusJson).id).toBe((first.body as MastodonStatusJson).id);
    expect((other.body as MastodonStatusJson).id).not.toBe((first.body as MastodonStatusJson).id);
    expect(sandbox.replies().map((r) => r.idempotencyKey)).toEqual(['k1', 'k2']);
  });

  it('counts length like Mastodon (a URL is 23) and refuses over the limit with 422', async () => {
    const url = `https://example.com/${'x'.repeat(200)}`;
    expect((await postJson({ status: `${'a'.repeat(476)} ${url}` })).status).toBe(200);
    const over = await postJson({ status: `${'a'.repeat(477)} ${url}` });
    expect(over).toMatchObject({
      status: 422,
      body: { error: 'Validation failed: Text character limit of 500 exceeded' },
    });
    sandbox.setMaxCharacters(10);
    expect((await api('/api/v2/instance')).body).toMatchObject({
      configuration: { statuses: { max_characters: 10, characters_reserved_per_url: 23 } },
    });
    expect(await postJson({ status: 'a'.repeat(11) })).toMatchObject({
      status: 422,
      body: { error: 'Validation failed: Text character limit of 10 exceeded' },
    });
  });

  it.each([
    [
      'an unknown in_reply_to_id',
      { in_reply_to_id: '1' },
      404,
      'The post you are trying to reply to does not appear to exist.',
    ],
    ['a blank status', { status: '  ' }, 422, "Validation failed: Text can't be blank"],
    [
      'an unknown visibility',
      { visibility: 'everyone' },
      422,
      'Validation failed: Visibility is not included in the list',
    ],
  ])('refuses %s', async (_name, extra, status, message) => {
    const response = await postJson({ status: 'hi', ...extra });
    expect(response).toMatchObject({ status, body: { error: message } });
  });

  it('refuses replies with 403 while restricted, and posts nothing', async () => {
    const target = post('question');
    sandbox.setReplyRestricted(true);
    const refused = await postJson({ status: 'answer', in_reply_to_id: target });
    expect(refused).toMatchObject({ status: 403, body: { error: 'This action is not allowed' } });
    expect(sandbox.replies()).toEqual([]);
  });
});

describe('auth and limits', () => {
  it('refuses a wrong token with 401, serves the instance without one, and verifies the right one', async () => {
    expect(await api('/api/v1/accounts/verify_credentials', { token: 'nope' })).toMatchObject({
      status: 401,
      body: { error: 'The access token is invalid' },
    });
    expect((await api('/api/v1/timelines/tag/x', { token: 'nope' })).status).toBe(401);
    expect((await api('/api/v1/timelines/tag/x', { token: null })).status).toBe(200);
    expect((await api('/api/v2/instance', { token: 'nope' })).status).toBe(200);
    const me = await api('/api/v1/accounts/verify_credentials');
    expect(me.body).toMatchObject({
      username: 'kikimimi_support',
      acct: 'kikimimi_support',
      source: { privacy: 'public' },
    });
  });

  it('sends X-RateLimit-* counting down, with the reset as an ISO timestamp, and 429 once spent', async () => {
    const small = await startMastodonSandbox({ rateLimit: { limit: 2, windowSeconds: 60 } });
    try {
      const get = () => fetch(`${small.url}/api/v1/timelines/tag/x`);
      const one = await get();
      expect(one.headers.get('x-ratelimit-limit')).toBe('2');
      expect(one.headers.get('x-ratelimit-remaining')).toBe('1');
      const reset = one.headers.get('x-ratelimit-reset') ?? '';
      expect(reset).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/u);
      expect(Date.parse(reset)).toBeGreaterThan(Date.now());
      expect(Date.parse(reset)).toBeLessThanOrEqual(Date.now() + 60_000);
      expect((await get()).headers.get('x-ratelimit-remaining')).toBe('0');
      const spent = await get();
      expect(spent.status).toBe(429);
      expect(await spent.json()).toEqual({ error: 'Too many requests' });
      small.resetRateLimit();
      expect((await get()).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('serves an injected rate-limit fault as 429 with the given reset', async () => {
    sandbox.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 90 } });
    const response = await api('/api/v1/timelines/tag/x');
    expect(response.status).toBe(429);
    const reset = Date.parse(response.headers.get('x-ratelimit-reset') ?? '');
    expect(reset - Date.now()).toBeGreaterThan(85_000);
    expect(reset - Date.now()).toBeLessThanOrEqual(90_000);
    expect(sandbox.requestCount('/api/v1/timelines')).toBe(1);
  });
});

describe('streaming', () => {
  type Frame = { stream: string[]; event: string; payload: string };
  async function open(
    query: string,
    protocols?: string | string[],
  ): Promise<{ socket: WebSocket; frames: Frame[] }> {
    const socket = new WebSocket(`${sandbox.streamingUrl}/api/v1/streaming${query}`, protocols);
    const frames: Frame[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return { socket, frames };
  }
  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('answers the health check', async () => {
    expect(await api('/api/v1/streaming/health', { token: null })).toMatchObject({ status: 200, body: 'OK' });
  });

  it('streams updates for ?stream=hashtag with the token as subprotocol, in Mastodon frames', async () => {
    const { socket, frames } = await open('?stream=hashtag&tag=Cats', sandbox.accessToken);
    expect(socket.protocol).toBe(sandbox.accessToken);
    post('#dogs only');
    const id = post('#cats here');
    sandbox.addPost({ text: '#cats unlisted', author: { handle: 'x' }, visibility: 'unlisted' });
    await until(() => frames.length > 0);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ stream: ['hashtag', 'Cats'], event: 'update' });
    expect(typeof frames[0]?.payload).toBe('string');
    expect((JSON.parse(frames[0]?.payload ?? '{}') as MastodonStatusJson).id).toBe(id);
    socket.close();
  });

  it('accepts multiplexed subscribe messages and the token as access_token', async () => {
    const { socket, frames } = await open(`?access_token=${sandbox.accessToken}`);
    socket.send(JSON.stringify({ type: 'subscribe', stream: 'public:local' }));
    await new Promise((r) => setTimeout(r, 50));
    sandbox.addPost({ text: 'remote', author: { handle: 'r@remote.example' } });
    post('local');
    await until(() => frames.length > 0);
    expect(frames.map((f) => (JSON.parse(f.payload) as MastodonStatusJson).content)).toEqual([
      '<p>local</p>',
    ]);
    expect(frames[0]?.stream).toEqual(['public:local']);
    socket.close();
  });

  it('streams an edit as status.update with the whole status, and a deletion as delete with the bare id', async () => {
    const { socket, frames } = await open('?stream=hashtag&tag=cats', sandbox.accessToken);
    const id = post('#cats first words');
    const hidden = sandbox.addPost({
      text: '#cats unlisted',
      author: { handle: 'x' },
      visibility: 'unlisted',
    });
    sandbox.editPost(id, { text: '#cats second words' });
    sandbox.editPost(hidden, { text: '#cats still unlisted' });
    sandbox.deletePost(id);
    sandbox.deletePost(hidden);
    await until(() => frames.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(frames.map((f) => f.event)).toEqual(['update', 'status.update', 'delete']);
    const edited = JSON.parse(frames[1]?.payload ?? '{}') as MastodonStatusJson;
    expect(edited.id).toBe(id);
    expect(edited.content).toContain('second words');
    expect(edited.tags.map((t) => t.name)).toEqual(['cats']);
    expect(edited.edited_at).not.toBeNull();
    // Mastodon publishes `status.id.to_s`: the payload is the id itself, not JSON.
    expect(frames[2]).toEqual({ stream: ['hashtag', 'cats'], event: 'delete', payload: id });
    expect((await api(`/api/v1/statuses/${id}`)).status).toBe(404);
    expect(sandbox.statuses().map((s) => s.id)).toEqual([]);
    socket.close();
  });

  it('refuses a wrong token at the upgrade with 401', async () => {
    const socket = new WebSocket(`${sandbox.streamingUrl}/api/v1/streaming?stream=public`, 'wrong');
    const status = await new Promise<number>((resolve) => {
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('error', () => resolve(-1));
    });
    expect(status).toBe(401);
  });

  it('dropStreams cuts every socket', async () => {
    const { socket } = await open('?stream=public', sandbox.accessToken);
    expect(sandbox.streamConnections).toBe(1);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    sandbox.dropStreams();
    expect(await closed).toBe(1006);
    expect(sandbox.streamConnections).toBe(0);
  });
});

describe('following a conversation (masto)', () => {
  let masto: mastodon.rest.Client;
  let original: string;
  let ours: mastodon.v1.Status;
  beforeEach(async () => {
    masto = createRestAPIClient({ url: sandbox.url, accessToken: sandbox.accessToken });
    original = sandbox.addPost({
      text: 'ログインできない #booklog',
      author: { handle: 'alice@social.example' },
    });
    ours = await masto.v1.statuses.create({
      status: '@alice@social.example こちらをお試しください',
      inReplyToId: original,
    });
  });

  it('turns a customer’s reply into a mention notification whose status answers ours', async () => {
    const answer = sandbox.addReply(ours.id, {
      text: 'ありがとうございます！',
      author: { handle: 'alice@social.example' },
    });
    const [notification, ...rest] = await masto.v1.notifications.list({ types: ['mention'] });
    expect(rest).toEqual([]);
    expect(notification).toMatchObject({
      type: 'mention',
      account: { acct: 'alice@social.example' },
      status: { id: answer, inReplyToId: ours.id, inReplyToAccountId: sandbox.account.id },
    });
    expect(notification?.status?.mentions.map((m) => m.acct)).toEqual(['kikimimi_support']);
    expect(notification?.status?.content).toContain('ありがとうございます！');
    expect(Date.parse(notification?.createdAt ?? '')).not.toBeNaN();
    expect((await masto.v1.notifications.$select(notification?.id as string).fetch()).id).toBe(
      notification?.id,
    );
  });

  it('serves the context: the chain above, oldest first, and the replies below, depth first', async () => {
    const answer = sandbox.addReply(ours.id, {
      text: 'まだだめです',
      author: { handle: 'alice@social.example' },
    });
    const deeper = sandbox.addReply(answer, { text: 'me neither', author: { handle: 'bob' } });
    const sibling = sandbox.addReply(original, { text: 'same here', author: { handle: 'carol' } });
    const hidden = sandbox.addPost({
      text: '@alice secret',
      author: { handle: 'dave' },
      inReplyTo: original,
      visibility: 'direct',
    });
    const context = await masto.v1.statuses.$select(answer).context.fetch();
    expect(context.ancestors.map((s) => s.id)).toEqual([original, ours.id]);
    expect(context.descendants.map((s) => s.id)).toEqual([deeper]);
    const top = await masto.v1.statuses.$select(original).context.fetch();
    expect(top.ancestors).toEqual([]);
    expect(top.descendants.map((s) => s.id)).toEqual([ours.id, answer, deeper, sibling]);
    expect(top.descendants.map((s) => s.id)).not.toContain(hidden);
    const missing = await masto.v1.statuses
      .$select('1')
      .context.fetch()
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MastoHttpError);
    expect((missing as MastoHttpError).statusCode).toBe(404);
  });

  it('counts replies, favourites and reblogs, notifies us of them, and lists who favourited and reblogged', async () => {
    sandbox.favourite(ours.id, { handle: 'alice@social.example' });
    sandbox.favourite(ours.id, { handle: 'bob' });
    sandbox.favourite(ours.id, { handle: 'bob' }); // once per account
    const reblog = sandbox.reblog(ours.id, { handle: 'carol' });
    sandbox.addReply(ours.id, { text: 'ok!', author: { handle: 'alice@social.example' } });
    sandbox.favourite(original, { handle: 'bob' }); // not ours: no notification for us

    const status = await masto.v1.statuses.$select(ours.id).fetch();
    expect([status.favouritesCount, status.reblogsCount, status.repliesCount]).toEqual([2, 1, 1]);
    expect((await masto.v1.statuses.$select(original).fetch()).repliesCount).toBe(1);
    expect((await masto.v1.statuses.$select(reblog).fetch()).reblog?.favouritesCount).toBe(2);

    const favouritedBy = await masto.v1.statuses.$select(ours.id).favouritedBy.list();
    expect(favouritedBy.map((a) => a.acct)).toEqual(['bob', 'alice@social.example']);
    const rebloggedBy = await masto.v1.statuses.$select(ours.id).rebloggedBy.list();
    expect(rebloggedBy.map((a) => a.acct)).toEqual(['carol']);

    const all = await masto.v1.notifications.list();
    expect(all.map((n) => [n.type, n.account.acct])).toEqual([
      ['mention', 'alice@social.example'],
      ['reblog', 'carol'],
      ['favourite', 'bob'],
      ['favourite', 'alice@social.example'],
    ]);
    expect(all.find((n) => n.type === 'favourite')?.status?.id).toBe(ours.id);
    const onlyLikes = await masto.v1.notifications.list({ types: ['favourite', 'reblog'] });
    expect(onlyLikes.map((n) => n.type)).toEqual(['reblog', 'favourite', 'favourite']);
    const noFavourites = await masto.v1.notifications.list({ excludeTypes: ['favourite'] });
    expect(noFavourites.map((n) => n.type)).toEqual(['mention', 'reblog']);
    const fromCarol = await masto.v1.notifications.list({ accountId: rebloggedBy[0]?.id as string });
    expect(fromCarol.map((n) => n.type)).toEqual(['reblog']);
  });

  it('pages notifications and favourited_by with Link headers, and min_id reads only what is new', async () => {
    for (let i = 0; i < 5; i++) sandbox.favourite(ours.id, { handle: `fan${i}` });
    const pages: string[][] = [];
    for await (const page of masto.v1.notifications.list({ limit: 2 }))
      pages.push(page.map((n) => n.account.acct));
    // The last page still has a Link header, as on Mastodon, so the client asks once more and gets [].
    expect(pages).toEqual([['fan4', 'fan3'], ['fan2', 'fan1'], ['fan0'], []]);
    // masto's favouritedBy.list() takes no parameters; the Link paging is checked on the wire.
    const first = await api(`/api/v1/statuses/${ours.id}/favourited_by?limit=3`);
    expect((first.body as { acct: string }[]).map((a) => a.acct)).toEqual(['fan4', 'fan3', 'fan2']);
    const next = /<([^>]+)>; rel="next"/u.exec(first.headers.get('link') ?? '')?.[1] ?? '';
    expect(next).toContain('limit=3&max_id=');
    const second = await api(next.slice(sandbox.url.length));
    expect((second.body as { acct: string }[]).map((a) => a.acct)).toEqual(['fan1', 'fan0']);

    const [newest] = await masto.v1.notifications.list({ limit: 1 });
    sandbox.addReply(ours.id, { text: 'thanks', author: { handle: 'fan0' } });
    const fresh = await masto.v1.notifications.list({ minId: newest?.id as string });
    expect(fresh.map((n) => [n.type, n.account.acct])).toEqual([['mention', 'fan0']]);
  });

  it('streams notifications to user and user:notification streams, and no statuses to them', async () => {
    const streaming = createStreamingAPIClient({
      streamingApiUrl: sandbox.streamingUrl,
      accessToken: sandbox.accessToken,
      retry: false,
    });
    try {
      const subscription = streaming.user.notification.subscribe();
      const next = subscription.values().next();
      await waitFor(() => sandbox.streamConnections === 1);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the subscribe message is on its way
      sandbox.addPost({ text: 'no mention', author: { handle: 'zed' } });
      const answer = sandbox.addReply(ours.id, {
        text: 'ありがとう',
        author: { handle: 'alice@social.example' },
      });
      const event = (await next).value;
      expect(event).toMatchObject({
        stream: ['user:notification'],
        event: 'notification',
        payload: { type: 'mention', status: { id: answer } },
      });
      subscription.unsubscribe();
    } finally {
      streaming.close();
    }
  });

  it('adds the @mention to a reply only when the text does not name the author already', async () => {
    const full = sandbox.addReply(ours.id, {
      text: '@kikimimi_support@mastodon.example thanks',
      author: { handle: 'alice@social.example' },
    });
    const bare = sandbox.addReply(ours.id, {
      text: 'thanks again',
      author: { handle: 'alice@social.example' },
    });
    const [fullStatus, bareStatus] = await Promise.all([
      masto.v1.statuses.$select(full).fetch(),
      masto.v1.statuses.$select(bare).fetch(),
    ]);
    expect(fullStatus.mentions.map((m) => m.acct)).toEqual(['kikimimi_support']);
    expect(bareStatus.mentions.map((m) => m.acct)).toEqual(['kikimimi_support']);
    expect(bareStatus.content).toContain('thanks again');
    expect(fullStatus.content.match(/kikimimi_support/gu)).toHaveLength(1);
  });

  it('refuses helper calls for statuses that do not exist', () => {
    expect(() => sandbox.addReply('1', { text: 'x', author: { handle: 'a' } })).toThrow(/no status/u);
    expect(() => sandbox.favourite('1', { handle: 'a' })).toThrow(/no status/u);
    expect(() => sandbox.reblog('1', { handle: 'a' })).toThrow(/no status/u);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
