import { Agent as HttpAgent } from 'node:http';
import { ApiResponseError, TwitterApi } from 'twitter-api-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DUPLICATE_CONTENT,
  REPLY_NOT_ALLOWED,
  REPLY_TARGET_GONE,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED,
} from './x-problems.ts';
import { startXSandbox, type XSandbox } from './x-sandbox.ts';

// Plain fetch: these tests pin the stand-in's wire format, independent of any client library.
interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
  body: any;
}

let x: XSandbox;

async function call(
  method: string,
  path: string,
  params: Record<string, string | number> = {},
  options: { token?: string | null; body?: unknown } = {},
): Promise<Answer> {
  const url = new URL(path, x.url);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? x.bearerToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  };
}

const search = (query: string, params: Record<string, string | number> = {}) =>
  call('GET', '/2/tweets/search/recent', { query, ...params });
const ids = (answer: Answer): string[] => (answer.body.data ?? []).map((t: { id: string }) => t.id);
const reply = (inReplyTo: string, text: string) =>
  call('POST', '/2/tweets', {}, { body: { text, reply: { in_reply_to_tweet_id: inReplyTo } } });

beforeEach(async () => {
  x = await startXSandbox();
});
afterEach(async () => {
  await x.close();
});

describe('authentication', () => {
  it.each([
    ['no token', null],
    ['a wrong token', 'not-the-token'],
  ])('answers %s with X’s 401 body', async (_name, token) => {
    const answer = await call('GET', '/2/tweets/search/recent', { query: 'a' }, { token });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(UNAUTHORIZED);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
  });

  it('accepts the token as OAuth 1.0a oauth_token too', async () => {
    const response = await fetch(new URL('/2/users/me', x.url), {
      headers: {
        authorization: `OAuth oauth_consumer_key="k", oauth_token="${x.bearerToken}", oauth_signature="s"`,
      },
    });
    expect(response.status).toBe(200);
  });
});

describe('recent search: query evaluation', () => {
  let posts: Record<string, string>;
  beforeEach(() => {
    const original = x.addPost({ text: 'booklog is down again', author: { handle: 'alice' }, lang: 'en' });
    posts = {
      original,
      repost: x.addPost({ text: 'booklog is down again', author: { handle: 'bob' }, repostOf: original }),
      reply: x.addPost({ text: 'booklog same here', author: { handle: 'carol' }, inReplyTo: original }),
      japanese: x.addPost({ text: 'ブクログが落ちてる #ブクログ', author: { handle: 'dai' } }),
      link: x.addPost({ text: 'see https://booklog.example.com/status now', author: { handle: 'erin' } }),
      mention: x.addPost({ text: 'hey @kikimimi_help login fails', author: { handle: 'fumi' } }),
      phrase: x.addPost({ text: 'the app will not open today', author: { handle: 'alice' } }),
    };
  });
  const expectIds = async (query: string, names: string[]) => {
    const answer = await search(query, { max_results: 100 });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(ids(answer).sort()).toEqual(names.map((n) => posts[n]).sort());
  };

  it.each([
    ['a term', 'booklog', ['original', 'repost', 'reply']],
    ['OR', 'booklog OR ブクログ', ['original', 'repost', 'reply', 'japanese']],
    ['a negation', 'booklog -same', ['original', 'repost']],
    ['-is:retweet', 'booklog -is:retweet', ['original', 'reply']],
    ['is:retweet', 'booklog is:retweet', ['repost']],
    ['is:reply', 'booklog is:reply', ['reply']],
    ['from:', 'from:alice', ['original', 'phrase']],
    ['from: with a term', 'from:alice booklog', ['original']],
    ['a hashtag', '#ブクログ', ['japanese']],
    ['a mention', '@kikimimi_help', ['mention']],
    ['a phrase', '"will not open"', ['phrase']],
    ['url: on the expanded link', 'url:"booklog.example.com"', ['link']],
    ['lang:', 'booklog lang:en', ['original', 'reply', 'repost']],
    ['parentheses', '(down OR same) -from:bob', ['original', 'reply']],
  ])('evaluates %s', async (_name, query, names) => {
    await expectIds(query, names as string[]);
  });

  it('answers an empty result the way X does: meta only, no data', async () => {
    const answer = await search('nothingmatchesthis');
    expect(answer.body).toEqual({ meta: { result_count: 0 } });
  });
});

describe('recent search: paging', () => {
  let added: string[];
  beforeEach(() => {
    added = Array.from({ length: 25 }, (_, i) => x.addPost({ text: `burst ${i}`, author: { handle: 'u' } }));
  });

  it('gives ids as growing numeric strings', () => {
    for (const [i, id] of added.entries()) {
      expect(id).toMatch(/^\d{18,19}$/);
      if (i > 0) expect(BigInt(id) > BigInt(added[i - 1] as string)).toBe(true);
    }
  });

  it('pages newest → oldest with next_token and meta', async () => {
    const one = await search('burst');
    expect(ids(one)).toEqual(added.slice(15).reverse());
    expect(one.body.meta).toMatchObject({
      result_count: 10,
      newest_id: added[24],
      oldest_id: added[15],
      next_token: expect.any(String),
    });
    const two = await search('burst', { next_token: one.body.meta.next_token });
    expect(ids(two)).toEqual(added.slice(5, 15).reverse());
    const three = await search('burst', { next_token: two.body.meta.next_token });
    expect(ids(three)).toEqual(added.slice(0, 5).reverse());
    expect(three.body.meta.next_token).toBeUndefined();
  });

  it('honours since_id and until_id (both exclusive)', async () => {
    const answer = await search('burst', { since_id: added[9] as string, until_id: added[14] as string });
    expect(ids(answer)).toEqual(added.slice(10, 14).reverse());
  });

  it('combines next_token with since_id, as X documents for polling', async () => {
    const one = await search('burst', { since_id: added[2] as string });
    const two = await search('burst', { since_id: added[2] as string, next_token: one.body.meta.next_token });
    expect(ids(two)).toEqual(added.slice(5, 15).reverse());
    const three = await search('burst', {
      since_id: added[2] as string,
      next_token: two.body.meta.next_token,
    });
    expect(ids(three)).toEqual([added[4], added[3]]);
    expect(three.body.meta.next_token).toBeUndefined();
  });

  it.each([9, 101, 'ten'])('refuses max_results=%s with X’s 400', async (value) => {
    const answer = await search('burst', { max_results: value });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('https://api.x.com/2/problems/invalid-request');
    expect(answer.body.errors[0].parameters.max_results).toEqual([String(value)]);
  });

  it.each([
    ['an empty query', {}],
    ['a query over 512 characters', { query: 'a'.repeat(513) }],
    ['an unknown tweet field', { query: 'a', 'tweet.fields': 'created_at,colour' }],
    ['a bad next_token', { query: 'a', next_token: 'nope' }],
    ['a bad since_id', { query: 'a', since_id: 'x1' }],
  ])('refuses %s with 400', async (_name, params) => {
    const answer = await call('GET', '/2/tweets/search/recent', params);
    expect(answer.status).toBe(400);
    expect(answer.body.title).toBe('Invalid Request');
  });
});

describe('recent search: fields and expansions', () => {
  it('returns t.co links with entities, escaped text, and the author in includes.users', async () => {
    const id = x.addPost({
      text: 'Q&A <help> https://help.example.com/a/b?c=1 #障害 @kikimimi_help',
      author: { handle: 'writer', name: 'A Writer', followers: 321, protected: true },
    });
    const answer = await search('help', {
      expansions: 'author_id',
      'tweet.fields': 'author_id,created_at,lang,conversation_id,entities',
      'user.fields': 'username,name,public_metrics,protected',
    });
    const [tweet] = answer.body.data;
    expect(tweet.id).toBe(id);
    expect(tweet.text).toMatch(/^Q&amp;A &lt;help&gt; https:\/\/t\.co\/[0-9a-z]{10} #障害 @kikimimi_help$/);
    expect(tweet.edit_history_tweet_ids).toEqual([id]);
    expect(tweet.conversation_id).toBe(id);
    expect(tweet.lang).toBe('ja');
    expect(tweet.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const [link] = tweet.entities.urls;
    expect(link.expanded_url).toBe('https://help.example.com/a/b?c=1');
    expect(tweet.text).toContain(link.url);
    expect(link.end - link.start).toBe(23);
    expect(tweet.entities.hashtags).toEqual([{ start: 35, end: 38, tag: '障害' }]);
    expect(tweet.entities.mentions[0]).toMatchObject({ username: 'kikimimi_help', id: x.account.id });
    expect(answer.body.includes.users).toEqual([
      {
        id: tweet.author_id,
        name: 'A Writer',
        username: 'writer',
        protected: true,
        public_metrics: expect.objectContaining({ followers_count: 321 }),
      },
    ]);
  });

  it('sends only the default fields when none are asked for', async () => {
    const id = x.addPost({ text: 'plain post', author: { handle: 'p' } });
    const answer = await search('plain');
    expect(answer.body.data).toEqual([{ id, text: 'plain post', edit_history_tweet_ids: [id] }]);
    expect(answer.body.includes).toBeUndefined();
  });

  it('marks reposts and replies in referenced_tweets and writes a repost as RT @author', async () => {
    const original = x.addPost({ text: 'original post', author: { handle: 'orig' } });
    const repost = x.addPost({ text: 'original post', author: { handle: 'rt' }, repostOf: original });
    const replyId = x.addPost({ text: 'a reply post', author: { handle: 're' }, inReplyTo: original });
    const answer = await search('post', {
      'tweet.fields': 'referenced_tweets,in_reply_to_user_id,conversation_id',
    });
    const byId = new Map(answer.body.data.map((t: { id: string }) => [t.id, t]));
    expect(byId.get(repost)).toMatchObject({
      text: 'RT @orig: original post',
      referenced_tweets: [{ type: 'retweeted', id: original }],
    });
    expect(byId.get(replyId)).toMatchObject({
      referenced_tweets: [{ type: 'replied_to', id: original }],
      conversation_id: original,
      in_reply_to_user_id: expect.any(String),
    });
    expect(byId.get(original)).not.toHaveProperty('referenced_tweets');
  });

  it('cuts a post over 280 characters and puts the whole text in note_tweet', async () => {
    const long = `longpost ${'あ'.repeat(300)}`;
    x.addPost({ text: long, author: { handle: 'l' } });
    const answer = await search('longpost', { 'tweet.fields': 'note_tweet' });
    const [tweet] = answer.body.data;
    expect([...tweet.text]).toHaveLength(280);
    expect(tweet.note_tweet.text).toBe(long);
  });
});

describe('rate limits', () => {
  it('counts down in the headers, then answers 429 until the window is reset', async () => {
    await x.close();
    x = await startXSandbox({ rateLimit: { limit: 3, windowSeconds: 60 } });
    const before = Math.floor(Date.now() / 1000);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await search('a');
      expect(answer.headers.get('x-rate-limit-limit')).toBe('3');
      remaining.push(answer.headers.get('x-rate-limit-remaining') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const spent = await search('a');
    expect(spent.status).toBe(429);
    expect(spent.body).toEqual(TOO_MANY_REQUESTS);
    expect(spent.headers.get('x-rate-limit-remaining')).toBe('0');
    const reset = Number(spent.headers.get('x-rate-limit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 59);
    expect(reset).toBeLessThanOrEqual(before + 61);
    x.resetRateLimit();
    expect((await search('a')).status).toBe(200);
  });

  it('answers an injected rate-limit fault with 429 and the reset it was given', async () => {
    x.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 300 } });
    const answer = await search('a');
    expect(answer.status).toBe(429);
    const reset = Number(answer.headers.get('x-rate-limit-reset'));
    expect(Math.abs(reset - (Date.now() / 1000 + 300))).toBeLessThan(3);
    expect(x.requestCount('/2/tweets/search')).toBe(1);
  });
});

describe('the seven-day window of recent search', () => {
  const DAY = 24 * 60 * 60 * 1000;

  it('refuses a since_id older than seven days with X’s 400, naming the oldest id it accepts', async () => {
    const old = x.addPost({
      text: 'quiet',
      author: { handle: 'a' },
      createdAt: new Date(Date.now() - 8 * DAY),
    });
    const answer = await search('quiet', { since_id: old });
    expect(answer.status).toBe(400);
    expect(answer.body.title).toBe('Invalid Request');
    expect(answer.body.detail).toBe('One or more parameters to your request was invalid.');
    expect(answer.body.type).toBe('https://api.x.com/2/problems/invalid-request');
    const [error] = answer.body.errors;
    expect(error.parameters).toEqual({ since_id: [old] });
    const match =
      /^'since_id' must be a tweet id created after (\d{4}-\d\d-\d\dT\d\d:\d\dZ)\. Please use a 'since_id' that is larger than (\d+)$/u.exec(
        error.message,
      );
    expect(match).not.toBeNull();
    const after = Date.parse((match as RegExpExecArray)[1] as string);
    expect(Math.abs(after - (Date.now() - 7 * DAY))).toBeLessThan(2 * 60 * 1000);
    // The id it names is accepted.
    expect((await search('quiet', { since_id: (match as RegExpExecArray)[2] as string })).status).toBe(200);
  });

  it('accepts a since_id from inside the window', async () => {
    const recent = x.addPost({
      text: 'quiet',
      author: { handle: 'a' },
      createdAt: new Date(Date.now() - 6 * DAY),
    });
    expect((await search('quiet', { since_id: recent })).status).toBe(200);
  });
});

describe('the 24-hour post cap of a user', () => {
  it('sends x-user-limit-24hour headers on POST /2/tweets, then 429 with remaining 0 and the reset', async () => {
    await x.close();
    x = await startXSandbox({ userDailyPostLimit: 2 });
    const target = x.addPost({ text: 'hello', author: { handle: 'customer' } });
    const first = await reply(target, 'one');
    expect(first.status).toBe(201);
    expect(first.headers.get('x-user-limit-24hour-limit')).toBe('2');
    expect(first.headers.get('x-user-limit-24hour-remaining')).toBe('1');
    expect((await reply(target, 'two')).status).toBe(201);
    const spent = await reply(target, 'three');
    expect(spent.status).toBe(429);
    expect(spent.body).toEqual(TOO_MANY_REQUESTS);
    expect(spent.headers.get('x-user-limit-24hour-remaining')).toBe('0');
    const reset = Number(spent.headers.get('x-user-limit-24hour-reset'));
    expect(Math.abs(reset - (Date.now() / 1000 + 24 * 3600))).toBeLessThan(5);
    // The 15-minute window is not what ran out.
    expect(Number(spent.headers.get('x-rate-limit-remaining'))).toBeGreaterThan(0);
    expect(x.replies()).toHaveLength(2);
  });
});

describe('POST /2/tweets', () => {
  let target: string;
  beforeEach(() => {
    target = x.addPost({ text: 'my order never came', author: { handle: 'customer' } });
  });

  it('creates a reply: 201 with id and text, recorded and stored with the author it answers', async () => {
    const answer = await reply(target, 'Sorry about that, we are looking into it.');
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      data: {
        id: expect.stringMatching(/^\d+$/),
        text: 'Sorry about that, we are looking into it.',
        edit_history_tweet_ids: [answer.body.data.id],
      },
    });
    expect(x.replies()).toMatchObject([
      { id: answer.body.data.id, inReplyTo: target, text: 'Sorry about that, we are looking into it.' },
    ]);
    const stored = x.posts().find((t) => t.id === answer.body.data.id);
    expect(stored).toMatchObject({
      authorId: x.account.id,
      text: '@customer Sorry about that, we are looking into it.',
      referencedTweets: [{ type: 'replied_to', id: target }],
    });
  });

  it('with delayReplyAnswers, makes the reply at once but answers late', async () => {
    x.delayReplyAnswers(200);
    const started = Date.now();
    const pending = reply(target, 'Answered late');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(x.replies()).toHaveLength(1);
    expect((await pending).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const prompt = Date.now();
    expect((await reply(target, 'Answered at once')).status).toBe(201);
    expect(Date.now() - prompt).toBeLessThan(150);
  });

  it('refuses a reply to a post that does not exist', async () => {
    const answer = await reply('123', 'hello');
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual(REPLY_TARGET_GONE);
  });

  it('refuses the same text to the same post again as duplicate content', async () => {
    expect((await reply(target, 'We are on it.')).status).toBe(201);
    const again = await reply(target, 'We are on it.');
    expect(again.status).toBe(403);
    expect(again.body).toEqual(DUPLICATE_CONTENT);
    const other = x.addPost({ text: 'me too', author: { handle: 'other' } });
    expect((await reply(other, 'We are on it.')).status).toBe(201);
    expect(x.replies()).toHaveLength(2);
  });

  it('with duplicates: "account", refuses the same text anywhere', async () => {
    await x.close();
    x = await startXSandbox({ duplicates: 'account' });
    const a = x.addPost({ text: 'one', author: { handle: 'a' } });
    const b = x.addPost({ text: 'two', author: { handle: 'b' } });
    expect((await reply(a, 'Thanks!')).status).toBe(201);
    expect((await reply(b, 'Thanks!')).status).toBe(403);
  });

  it('when restricted, refuses replies to posts that do not mention the account', async () => {
    x.setReplyRestricted(true);
    const refused = await reply(target, 'Hello');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual(REPLY_NOT_ALLOWED);
    const mentioning = x.addPost({
      text: '@kikimimi_help my order never came',
      author: { handle: 'customer' },
    });
    expect((await reply(mentioning, 'Hello')).status).toBe(201);
    const own = (await reply(mentioning, 'A follow-up')).body.data.id;
    expect((await reply(own, 'And another')).status).toBe(201);
    x.setReplyRestricted(false);
    expect((await reply(target, 'Hello')).status).toBe(201);
  });

  it('refuses a text over 280 weighted characters', async () => {
    const answer = await reply(target, 'あ'.repeat(141));
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].message).toMatch(/^Your Tweet text is too long/);
  });
});

describe('users', () => {
  it('answers /2/users/me with the account', async () => {
    const answer = await call('GET', '/2/users/me', { 'user.fields': 'username,name' });
    expect(answer.body).toEqual({ data: x.account });
  });

  it('lists a user’s posts newest first with pagination and fields', async () => {
    const target = x.addPost({ text: 'help', author: { handle: 'c' } });
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) mine.push((await reply(target, `reply ${i}`)).body.data.id);
    const path = `/2/users/${x.account.id}/tweets`;
    const one = await call('GET', path, { max_results: 5, 'tweet.fields': 'referenced_tweets' });
    expect(ids(one)).toEqual(mine.slice(2).reverse());
    expect(one.body.data[0].referenced_tweets).toEqual([{ type: 'replied_to', id: target }]);
    const two = await call('GET', path, { max_results: 5, pagination_token: one.body.meta.next_token });
    expect(ids(two)).toEqual(mine.slice(0, 2).reverse());
    const excluded = await call('GET', path, { exclude: 'replies' });
    expect(excluded.body).toEqual({ meta: { result_count: 0 } });
  });

  it('answers an unknown user with a partial error, as X does', async () => {
    const answer = await call('GET', '/2/users/42/tweets');
    expect(answer.status).toBe(200);
    expect(answer.body.errors[0]).toMatchObject({ title: 'Not Found Error', resource_id: '42' });
  });
});

describe('faults and counters', () => {
  it('counts faulted requests too, by path', async () => {
    x.faults.inject({ fault: { kind: 'status', status: 503 }, path: '/2/tweets/search' });
    expect((await search('a')).status).toBe(503);
    expect((await search('a')).status).toBe(200);
    await call('GET', '/2/users/me');
    expect(x.requestCount('/2/tweets/search/recent')).toBe(2);
    expect(x.requestCount()).toBe(3);
  });
});

/** The real client, moved from api.x.com to the stand-in the way the connector does it. */
function xClient(): TwitterApi {
  const origin = 'https://api.x.com/';
  return new TwitterApi(x.bearerToken, {
    plugins: [
      {
        onBeforeRequestConfig({ params }) {
          if (params.url.startsWith(origin)) params.url = `${x.url}/${params.url.slice(origin.length)}`;
        },
      },
    ],
    httpAgent: new HttpAgent(),
    compression: 'identity',
  });
}

const CONVERSATION_FIELDS = [
  'author_id',
  'conversation_id',
  'created_at',
  'in_reply_to_user_id',
  'referenced_tweets',
  'public_metrics',
] as const;

describe('following a conversation (twitter-api-v2)', () => {
  let client: TwitterApi;
  let posts: Record<string, string>;
  beforeEach(async () => {
    client = xClient();
    const original = x.addPost({ text: 'ブクログにログインできない', author: { handle: 'alice' } });
    const other = x.addPost({ text: 'ブクログが重い', author: { handle: 'dai' } });
    const ours = (await client.v2.reply('ご不便をおかけしております。こちらをお試しください', original)).data
      .id;
    const oursToDai = (await client.v2.reply('確認いたします', other)).data.id;
    posts = {
      original,
      other,
      ours,
      oursToDai,
      thanks: x.addReply(ours, { text: 'ありがとうございます！', author: { handle: 'alice' } }),
      bystander: x.addReply(original, { text: 'me too', author: { handle: 'bob' } }),
      daiAnswer: x.addReply(oursToDai, { text: 'まだ直りません', author: { handle: 'dai' } }),
      elsewhere: x.addPost({ text: 'unrelated', author: { handle: 'erin' } }),
    };
  });
  const found = async (query: string) =>
    (await client.v2.search(query, { max_results: 100 })).tweets.map((t) => t.id).sort();
  const named = (...names: string[]) => names.map((n) => posts[n]).sort();

  it('finds the replies in a conversation with X’s conversation fields, and not the post that started it', async () => {
    const page = await client.v2.search(`conversation_id:${posts.original}`, {
      'tweet.fields': [...CONVERSATION_FIELDS],
      expansions: ['author_id'],
    });
    expect(page.tweets.map((t) => t.id).sort()).toEqual(named('ours', 'thanks', 'bystander'));
    const thanks = page.tweets.find((t) => t.id === posts.thanks);
    expect(thanks).toMatchObject({
      text: '@kikimimi_help ありがとうございます！',
      conversation_id: posts.original,
      in_reply_to_user_id: x.account.id,
      referenced_tweets: [{ type: 'replied_to', id: posts.ours }],
      public_metrics: { like_count: 0, reply_count: 0, retweet_count: 0, quote_count: 0 },
    });
    expect(Date.parse(thanks?.created_at ?? '')).not.toBeNaN();
    expect(page.includes.author(thanks as never)?.username).toBe('alice');
  });

  it.each([
    [
      'OR-packed conversations',
      (p: Record<string, string>) =>
        `(conversation_id:${p.original} OR conversation_id:${p.other}) -from:kikimimi_help`,
      ['thanks', 'bystander', 'daiAnswer'],
    ],
    ['in_reply_to_tweet_id:', (p: Record<string, string>) => `in_reply_to_tweet_id:${p.ours}`, ['thanks']],
    ['to: by username', () => 'to:kikimimi_help', ['thanks', 'daiAnswer']],
    ['to: by user id', () => `to:${x.account.id}`, ['thanks', 'daiAnswer']],
    ['from: by user id', () => `from:${x.account.id}`, ['ours', 'oursToDai']],
    [
      '-from: with a name longer than 15 characters',
      () => 'to:kikimimi_help -from:shiorinote_support',
      ['thanks', 'daiAnswer'],
    ],
    ['a mention of the account', () => '@kikimimi_help -is:retweet', ['thanks', 'daiAnswer']],
    [
      'a conversation and a word',
      (p: Record<string, string>) => `conversation_id:${p.original} ありがとう`,
      ['thanks'],
    ],
  ])('evaluates %s', async (_name, query, names) => {
    expect(await found(query(posts))).toEqual(named(...(names as string[])));
  });

  it('refuses what X refuses: an operator without its value, a query of filters only, an over-long query', async () => {
    const refused = async (query: string) => {
      const error = await client.v2.search(query).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiResponseError);
      expect((error as ApiResponseError).code).toBe(400);
      return (error as ApiResponseError).data.errors?.[0];
    };
    expect(await refused('conversation_id:abc')).toMatchObject({
      parameters: { query: ['conversation_id:abc'] },
    });
    expect(await refused('to:')).toBeDefined();
    expect(await refused('is:reply lang:ja')).toBeDefined();
    expect(await refused('(conversation_id:1 OR')).toBeDefined();
    const long = `(${Array.from({ length: 30 }, (_, i) => `conversation_id:${1_800_000_000_000_000_000n + BigInt(i)}`).join(' OR ')})`;
    expect(long.length).toBeGreaterThan(512);
    expect(await refused(long)).toMatchObject({ message: expect.stringContaining('512') });
  });

  it('takes a longer query when configured for an access level that allows one', async () => {
    await x.close();
    x = await startXSandbox({ maxQueryLength: 4096 });
    const original = x.addPost({ text: 'help', author: { handle: 'alice' } });
    const answer = x.addReply(original, { text: 'thanks', author: { handle: 'bob' } });
    const ids = Array.from(
      { length: 30 },
      (_, i) => `conversation_id:${1_800_000_000_000_000_000n + BigInt(i)}`,
    );
    const query = `(${[...ids, `conversation_id:${original}`].join(' OR ')})`;
    const page = await xClient().v2.search(query);
    expect(page.tweets.map((t) => t.id)).toEqual([answer]);
  });
});

describe('the mention timeline (twitter-api-v2)', () => {
  it('serves posts that mention the user, newest first, paged with since_id and pagination_token', async () => {
    const client = xClient();
    const original = x.addPost({ text: 'ログインできない', author: { handle: 'alice' } });
    const ours = (await client.v2.reply('こちらをお試しください', original)).data.id;
    const mentions = [
      x.addReply(ours, { text: 'ありがとう', author: { handle: 'alice' } }),
      ...Array.from({ length: 5 }, (_, i) =>
        x.addPost({ text: `@kikimimi_help question ${i}`, author: { handle: `user${i}` } }),
      ),
    ];
    x.addPost({ text: 'no mention here', author: { handle: 'zed' } });
    const first = await client.v2.userMentionTimeline(x.account.id, {
      max_results: 5,
      'tweet.fields': ['author_id', 'conversation_id', 'in_reply_to_user_id', 'referenced_tweets'],
      expansions: ['author_id'],
    });
    expect(first.tweets.map((t) => t.id)).toEqual(mentions.slice(1).reverse());
    expect(first.meta.result_count).toBe(5);
    expect(first.meta.newest_id).toBe(mentions[5]);
    const next = await first.next();
    expect(next.tweets.map((t) => t.id)).toEqual([mentions[0]]);
    expect(next.tweets[0]).toMatchObject({ conversation_id: original, in_reply_to_user_id: x.account.id });
    expect(next.includes.author(next.tweets[0] as never)?.username).toBe('alice');

    const later = x.addPost({ text: '@KIKIMIMI_HELP again', author: { handle: 'alice' } });
    const since = await client.v2.userMentionTimeline(x.account.id, { since_id: first.meta.newest_id });
    expect(since.tweets.map((t) => t.id)).toEqual([later]);
  });

  it('takes start_time and end_time (RFC 3339, second granularity, start inclusive, end exclusive)', async () => {
    const at = (iso: string, text: string) =>
      x.addPost({ text: `@kikimimi_help ${text}`, author: { handle: 'alice' }, createdAt: iso });
    const early = at('2026-12-01T10:00:00.400Z', 'early');
    const onTime = at('2026-12-01T10:00:01.900Z', 'on time');
    const late = at('2026-12-01T10:00:05.000Z', 'late');
    const path = `/2/users/${x.account.id}/mentions`;
    const from = await call('GET', path, { start_time: '2026-12-01T10:00:01.500Z' });
    expect(ids(from)).toEqual([late, onTime]);
    const window = await call('GET', path, {
      start_time: '2026-12-01T10:00:00Z',
      end_time: '2026-12-01T10:00:05Z',
    });
    expect(ids(window)).toEqual([onTime, early]);
    const client = xClient();
    const viaClient = await client.v2.userMentionTimeline(x.account.id, {
      start_time: '2026-12-01T10:00:02Z',
    });
    expect(viaClient.tweets.map((t) => t.id)).toEqual([late]);
    for (const params of [
      { start_time: 'yesterday' },
      { start_time: '2009-01-01T00:00:00Z' },
      { start_time: '2026-12-01T10:00:05Z', end_time: '2026-12-01T10:00:00Z' },
    ]) {
      const refused = await call('GET', path, params);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].parameters).toHaveProperty('start_time');
    }
  });

  it('answers an unknown user with a partial error and a bad id with a 400', async () => {
    const unknown = await call('GET', '/2/users/42/mentions');
    expect(unknown.body.errors[0]).toMatchObject({ resource_type: 'user', resource_id: '42' });
    expect((await call('GET', '/2/users/abc/mentions')).status).toBe(400);
    expect((await call('GET', `/2/users/${x.account.id}/mentions`, { max_results: 4 })).status).toBe(400);
  });
});

describe('likes, public metrics and post lookup (twitter-api-v2)', () => {
  it('lists who liked our reply, most recent first, and counts likes and replies in public_metrics', async () => {
    const client = xClient();
    const original = x.addPost({ text: 'ブクログ落ちてる', author: { handle: 'alice' } });
    const ours = (await client.v2.reply('復旧しました', original)).data.id;
    x.addLike(ours, { handle: 'alice' });
    x.addLike(ours, { handle: 'bob', name: 'Bob' });
    x.addLike(ours, { handle: 'alice' }); // a second like by the same person changes nothing
    x.addReply(ours, { text: 'よかった', author: { handle: 'alice' } });
    x.addPost({ text: 'RT', author: { handle: 'carol' }, repostOf: ours });

    const liked = await client.v2.tweetLikedBy(ours, { 'user.fields': ['created_at'] });
    expect(liked.data.map((u) => u.username)).toEqual(['bob', 'alice']);
    expect(liked.data[0]).toMatchObject({ name: 'Bob', created_at: expect.any(String) });
    expect(liked.meta.result_count).toBe(2);

    const single = await client.v2.singleTweet(ours, { 'tweet.fields': ['public_metrics'] });
    expect(single.data.public_metrics).toMatchObject({
      like_count: 2,
      reply_count: 1,
      retweet_count: 1,
      quote_count: 0,
    });
    const many = await client.v2.tweets([ours, original, '1999999999999999999'], {
      'tweet.fields': ['public_metrics', 'conversation_id'],
    });
    expect(many.data.map((t) => t.id)).toEqual([ours, original]);
    expect(many.data[1]?.public_metrics?.reply_count).toBe(1);
    expect(many.errors?.[0]).toMatchObject({ resource_id: '1999999999999999999' });
  });

  it('pages liking users and answers an empty list with meta only', async () => {
    const target = x.addPost({ text: 'hello', author: { handle: 'alice' } });
    expect((await call('GET', `/2/tweets/${target}/liking_users`)).body).toEqual({
      meta: { result_count: 0 },
    });
    for (let i = 0; i < 3; i++) x.addLike(target, { handle: `fan${i}` });
    const one = await call('GET', `/2/tweets/${target}/liking_users`, { max_results: 2 });
    expect(one.body.data.map((u: { username: string }) => u.username)).toEqual(['fan2', 'fan1']);
    const two = await call('GET', `/2/tweets/${target}/liking_users`, {
      max_results: 2,
      pagination_token: one.body.meta.next_token,
    });
    expect(two.body.data.map((u: { username: string }) => u.username)).toEqual(['fan0']);
    expect(two.body.meta.next_token).toBeUndefined();
    expect(() => x.addLike('1', { handle: 'a' })).toThrow(/no post/u);
    expect(() => x.addReply('1', { text: 'a', author: { handle: 'a' } })).toThrow(/no post/u);
  });
});

describe('usage, as X would bill it', () => {
  it('counts requests and reads per endpoint, and bills each post once a day', async () => {
    const client = xClient();
    const original = x.addPost({ text: 'booklog down', author: { handle: 'alice' } });
    await client.v2.reply('sorry', original);
    x.resetUsage(); // the reply above is not what this test is about
    const ours = x.posts().at(-1)?.id as string;
    x.addReply(ours, { text: 'thanks', author: { handle: 'alice' } });

    await client.v2.search('booklog', { expansions: ['author_id'] });
    await client.v2.search('booklog', { expansions: ['author_id'] }); // the same post again
    await client.v2.userMentionTimeline(x.account.id);
    await client.v2.tweets([ours, original]);
    await call('GET', '/2/tweets/search/recent', { query: 'x' }, { token: 'wrong' });

    const usage = x.usage();
    expect(usage.endpoints['GET /2/tweets/search/recent']).toEqual({
      requests: 3,
      postsRead: 2,
      usersRead: 2,
    });
    expect(usage.endpoints['GET /2/users/:id/mentions']).toEqual({ requests: 1, postsRead: 1, usersRead: 0 });
    expect(usage.endpoints['GET /2/tweets']).toEqual({ requests: 1, postsRead: 2, usersRead: 0 });
    expect(usage.requests).toBe(5);
    expect(usage.postsRead).toBe(5);
    // original, ours and the answer: three posts, each billed once today; alice once as a user.
    expect(usage.billedPostReads).toBe(3);
    expect(usage.billedUserReads).toBe(1);
    expect(usage.postsCreated).toBe(0);
    await client.v2.reply('anything else?', original);
    expect(x.usage().postsCreated).toBe(1);
  });
});
