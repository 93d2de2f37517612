import { measureReply, preparePost, QuerySyntaxError } from '@kikimimi/rules';
import { createFaultInjector, type FaultInjector } from '../faults.ts';
import { type SandboxRequest, type SandboxResponse, startHttpServer } from '../http.ts';
import type { SandboxPostInput, SandboxReply } from '../world.ts';
import {
  DUPLICATE_CONTENT,
  invalidRequest,
  REPLY_NOT_ALLOWED,
  REPLY_TARGET_GONE,
  resourceNotFound,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED,
  type XProblem,
} from './x-problems.ts';
import { compileXQuery, type XQuery } from './x-query.ts';
import {
  compareIds,
  createXStore,
  firstIdAt,
  serializeTweet,
  serializeUser,
  timeOfId,
  type XSandboxTweet,
  type XSandboxUser,
} from './x-store.ts';

/** The account the X stand-in acts as (what `GET /2/users/me` answers). */
export interface XSandboxAccount {
  readonly id: string;
  readonly username: string;
  readonly name: string;
}

export interface XSandboxOptions {
  /** Port to listen on (default: an ephemeral one). */
  readonly port?: number;
  /** The one token the stand-in accepts, as `Bearer` or as OAuth 1.0a `oauth_token` (default `sandbox-x-token`). */
  readonly bearerToken?: string;
  readonly account?: XSandboxAccount;
  /** Recent search's window (default 450 requests per 900 s, X's app limit). Other endpoints keep X's own limits. */
  readonly rateLimit?: { readonly limit?: number; readonly windowSeconds?: number };
  /** Refuse API replies to posts that do not mention the account, as X does since February 2026 (default false). */
  readonly replyRestricted?: boolean;
  /**
   * Which earlier text makes a new post a duplicate: the same text replied to the same post (default), or
   * the same text anywhere on the account, which is closer to X's real filter.
   */
  readonly duplicates?: 'same-target' | 'account';
  /**
   * The account's 24-hour cap on POST /2/tweets (default: none). With it, every answer to POST /2/tweets
   * carries `x-user-limit-24hour-limit/-remaining/-reset`, and a spent cap answers 429 with
   * `x-user-limit-24hour-remaining: 0` while the 15-minute window may still have requests left.
   */
  readonly userDailyPostLimit?: number;
  /**
   * Longest recent-search query (default 512, X's documented limit for recent search; X documented
   * 4096 for its former Pro tier).
   */
  readonly maxQueryLength?: number;
}

/** Requests and resources one endpoint served. */
export interface XEndpointUsage {
  readonly requests: number;
  /** Posts in `data` and `includes.tweets` of successful answers. */
  readonly postsRead: number;
  /** Users in `data` and `includes.users` of successful answers. */
  readonly usersRead: number;
}

/**
 * What the stand-in would have cost on X's pay-per-use plan: X bills each post (and each user) read,
 * counted once per UTC day however many answers carried it, and each post created.
 */
export interface XUsage {
  /** By endpoint, as `METHOD /path` with X's parameter names (`GET /2/users/:id/mentions`). */
  readonly endpoints: Readonly<Record<string, XEndpointUsage>>;
  readonly requests: number;
  readonly postsRead: number;
  readonly usersRead: number;
  /** Distinct posts per UTC day: what X bills. */
  readonly billedPostReads: number;
  readonly billedUserReads: number;
  readonly postsCreated: number;
}

/** A reply someone else writes to a post on the stand-in (see `XSandbox.addReply`). */
export type XSandboxReplyInput = Omit<SandboxPostInput, 'inReplyTo' | 'repostOf'>;

/** A running X API v2 stand-in on 127.0.0.1. */
export interface XSandbox {
  /** `http://127.0.0.1:PORT`, to use as the connector's base URL. */
  readonly url: string;
  readonly bearerToken: string;
  readonly account: XSandboxAccount;
  readonly faults: FaultInjector;
  /** Adds a post; returns its id (numeric strings that grow with each post, like X's). */
  addPost(input: SandboxPostInput): string;
  /**
   * Someone replies to a post (ours, say): the text starts with `@author` of the post replied to, as
   * X's clients write it, so the reply is also a mention of that author. Returns the reply's id.
   */
  addReply(inReplyTo: string, input: XSandboxReplyInput): string;
  /** Someone likes a post (once per person, as on X). */
  addLike(tweetId: string, author: SandboxPostInput['author']): void;
  /** Requests and reads so far, per endpoint and as X would bill them. */
  usage(): XUsage;
  resetUsage(): void;
  /** Replies made through `POST /2/tweets`, oldest first. */
  replies(): readonly SandboxReply[];
  /** Every stored post (including the account's replies), oldest first. */
  posts(): readonly XSandboxTweet[];
  setReplyRestricted(restricted: boolean): void;
  /**
   * The next `times` replies are made at once but answered only after `delayMs`: a client that gives up
   * sooner loses the answer to a reply that exists, as after a network failure.
   */
  delayReplyAnswers(delayMs: number, times?: number): void;
  /** Starts fresh rate-limit windows on every endpoint. */
  resetRateLimit(): void;
  /** Requests received, faulted ones included; with `path`, only those whose path starts with it. */
  requestCount(path?: string): number;
  close(): Promise<void>;
}

const DEFAULT_ACCOUNT: XSandboxAccount = {
  id: '1580000000000000001',
  username: 'kikimimi_help',
  name: 'Kikimimi Help',
};
const MAX_QUERY_LENGTH = 512;
// The mention timeline serves the 800 most recent mentions (docs.x.com, user mention timeline).
const MENTIONS_DEPTH = 800;
const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

// From docs.x.com's recent-search and users reference: values outside these lists are a 400.
const TWEET_FIELDS = new Set(
  'article,attachments,author_id,card_uri,community_id,context_annotations,conversation_id,created_at,display_text_range,edit_controls,edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,media_metadata,non_public_metrics,note_tweet,organic_metrics,possibly_sensitive,promoted_metrics,public_metrics,referenced_tweets,reply_settings,scopes,source,text,withheld'.split(
    ',',
  ),
);
const USER_FIELDS = new Set(
  'affiliation,connection_status,created_at,description,entities,id,is_identity_verified,location,most_recent_tweet_id,name,parody,pinned_tweet_id,profile_banner_url,profile_image_url,protected,public_metrics,receives_your_dm,subscription,subscription_type,url,username,verified,verified_followers_count,verified_type,withheld'.split(
    ',',
  ),
);
const TWEET_EXPANSIONS = new Set(
  'article.cover_media,article.media_entities,attachments.media_keys,attachments.media_source_tweet,attachments.poll_ids,author_id,edit_history_tweet_ids,entities.mentions.username,entities.note.mentions.username,geo.place_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.attachments.media_keys,referenced_tweets.id.author_id'.split(
    ',',
  ),
);
const USER_EXPANSIONS = new Set(['affiliation.user_id', 'most_recent_tweet_id', 'pinned_tweet_id']);

// Per-endpoint windows from docs.x.com "Rate limits" (user context); recent search takes `options.rateLimit`.
const ENDPOINT_LIMITS = {
  search: 450,
  createTweet: 100,
  usersMe: 75,
  userTweets: 900,
  mentions: 450,
  likingUsers: 75,
  tweetsLookup: 3500,
  tweetLookup: 450,
} as const;
type Endpoint = keyof typeof ENDPOINT_LIMITS;

const ENDPOINT_NAMES: Record<Endpoint, string> = {
  search: 'GET /2/tweets/search/recent',
  createTweet: 'POST /2/tweets',
  usersMe: 'GET /2/users/me',
  userTweets: 'GET /2/users/:id/tweets',
  mentions: 'GET /2/users/:id/mentions',
  likingUsers: 'GET /2/tweets/:id/liking_users',
  tweetsLookup: 'GET /2/tweets',
  tweetLookup: 'GET /2/tweets/:id',
};

// X sends error bodies as problem JSON (RFC 7807).
const problem = (status: number, body: XProblem, headers: Record<string, string> = {}): SandboxResponse => ({
  status,
  body,
  headers: { 'content-type': 'application/problem+json', ...headers },
});

/** A 400 waiting to be sent: thrown by the parameter readers, caught by the route. */
class BadRequest extends Error {
  readonly body: XProblem;
  constructor(body: XProblem) {
    super('bad request');
    this.body = body;
  }
}

const ID = /^\d{1,19}$/u;

function readId(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!ID.test(value)) {
    throw new BadRequest(
      invalidRequest(name, [value], `The \`${name}\` query parameter value [${value}] is not valid`),
    );
  }
  return value;
}

function readInt(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/u.test(raw) || value < min || value > max) {
    throw new BadRequest(
      invalidRequest(
        name,
        [raw],
        `The \`${name}\` query parameter value [${raw}] is not between ${min} and ${max}`,
      ),
    );
  }
  return value;
}

function readList(query: URLSearchParams, name: string, allowed: ReadonlySet<string>): Set<string> {
  const raw = query.get(name);
  if (raw === null || raw === '') return new Set();
  const values = raw.split(',');
  const wrong = values.find((v) => !allowed.has(v));
  if (wrong !== undefined) {
    throw new BadRequest(
      invalidRequest(
        name,
        [wrong],
        `The \`${name}\` query parameter value [${wrong}] is not one of [${[...allowed].join(',')}]`,
      ),
    );
  }
  return new Set(values);
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/u;
// X's first day: times before it are refused.
const EARLIEST_TIME_S = Date.parse('2010-11-06T00:00:01Z') / 1000;

/** `start_time`/`end_time` (RFC 3339, UTC), as whole epoch seconds. */
function readTime(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const ms = TIME.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms) || ms / 1000 < EARLIEST_TIME_S) {
    throw new BadRequest(
      invalidRequest(
        name,
        [raw],
        `Invalid '${name}':'${raw}'. '${name}' must be a valid RFC 3339 UTC time on or after 2010-11-06T00:00:01Z`,
      ),
    );
  }
  return Math.floor(ms / 1000);
}

// Pagination tokens only need to be opaque and stable; this one carries the id to continue below.
const encodeToken = (id: string) => `b26v89c1${BigInt(id).toString(36)}`;
function decodeToken(query: URLSearchParams, name: string): string | undefined {
  const token = query.get(name);
  if (token === null) return undefined;
  const digits = token.startsWith('b26v89c1') ? token.slice(8) : '';
  if (/^[0-9a-z]{1,13}$/u.test(digits)) {
    let value = 0n;
    for (const c of digits) value = value * 36n + BigInt(Number.parseInt(c, 36));
    return value.toString();
  }
  throw new BadRequest(
    invalidRequest(name, [token], `The \`${name}\` query parameter value [${token}] is not a valid token`),
  );
}

/** Starts an X API v2 stand-in: recent search, posting replies, `users/me` and a user's timeline. */
export async function startXSandbox(options: XSandboxOptions = {}): Promise<XSandbox> {
  const bearerToken = options.bearerToken ?? 'sandbox-x-token';
  const account = options.account ?? DEFAULT_ACCOUNT;
  const windowSeconds = options.rateLimit?.windowSeconds ?? 900;
  const searchLimit = options.rateLimit?.limit ?? ENDPOINT_LIMITS.search;
  const duplicates = options.duplicates ?? 'same-target';
  let replyRestricted = options.replyRestricted ?? false;
  const lateAnswers: number[] = [];

  const store = createXStore(account);
  const replies: SandboxReply[] = [];
  const requests: string[] = [];
  const queries = new Map<string, XQuery>();
  const maxQueryLength = options.maxQueryLength ?? MAX_QUERY_LENGTH;
  const usageByEndpoint = new Map<Endpoint, { requests: number; postsRead: number; usersRead: number }>();
  const billed = new Set<string>();
  let postsCreated = 0;
  const usageOf = (endpoint: Endpoint) => {
    let entry = usageByEndpoint.get(endpoint);
    if (entry === undefined) {
      entry = { requests: 0, postsRead: 0, usersRead: 0 };
      usageByEndpoint.set(endpoint, entry);
    }
    return entry;
  };
  /** Counts the posts and users a successful answer carried, and what X would bill for them today. */
  const countReads = (endpoint: Endpoint, body: unknown) => {
    if (typeof body !== 'object' || body === null) return;
    const { data, includes } = body as {
      data?: unknown;
      includes?: { tweets?: Array<{ id: string }>; users?: Array<{ id: string }> };
    };
    const list = (value: unknown) =>
      (Array.isArray(value) ? value : value === undefined ? [] : [value]) as Array<{ id: string }>;
    const dataAreUsers = endpoint === 'likingUsers' || endpoint === 'usersMe';
    const posts = [...(dataAreUsers ? [] : list(data)), ...list(includes?.tweets)];
    const people = [...(dataAreUsers ? list(data) : []), ...list(includes?.users)];
    const entry = usageOf(endpoint);
    entry.postsRead += posts.length;
    entry.usersRead += people.length;
    const day = new Date().toISOString().slice(0, 10);
    for (const post of posts) billed.add(`${day}:post:${post.id}`);
    for (const user of people) billed.add(`${day}:user:${user.id}`);
  };
  const buckets = new Map<Endpoint, { remaining: number; resetAt: number }>();

  const limitOf = (endpoint: Endpoint) => (endpoint === 'search' ? searchLimit : ENDPOINT_LIMITS[endpoint]);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const rateHeaders = (limit: number, remaining: number, resetAt: number) => ({
    'x-rate-limit-limit': String(limit),
    'x-rate-limit-remaining': String(remaining),
    'x-rate-limit-reset': String(resetAt),
  });

  /** Counts the request against its endpoint's window; the headers to send, or a 429 when spent. */
  const spend = (endpoint: Endpoint): { headers: Record<string, string>; refused?: SandboxResponse } => {
    const limit = limitOf(endpoint);
    let bucket = buckets.get(endpoint);
    if (bucket === undefined || bucket.resetAt <= nowSeconds()) {
      bucket = { remaining: limit, resetAt: nowSeconds() + windowSeconds };
      buckets.set(endpoint, bucket);
    }
    if (bucket.remaining <= 0) {
      const headers = rateHeaders(limit, 0, bucket.resetAt);
      return { headers, refused: problem(429, TOO_MANY_REQUESTS, headers) };
    }
    bucket.remaining--;
    return { headers: rateHeaders(limit, bucket.remaining, bucket.resetAt) };
  };

  const authorized = (request: SandboxRequest): boolean => {
    const header = request.headers.authorization ?? '';
    if (header === `Bearer ${bearerToken}`) return true;
    // OAuth 1.0a: the access token travels as oauth_token; the signature is not checked here.
    const oauthToken = /(?:^OAuth |,\s*)oauth_token="([^"]*)"/u.exec(header)?.[1];
    return oauthToken !== undefined && decodeURIComponent(oauthToken) === bearerToken;
  };

  /** Auth, rate limit, then the handler; parameter errors become X's 400 with the rate headers. */
  const route =
    (endpoint: Endpoint, handler: (request: SandboxRequest) => SandboxResponse) =>
    (request: SandboxRequest): SandboxResponse => {
      usageOf(endpoint).requests++;
      if (!authorized(request)) return problem(401, UNAUTHORIZED);
      const { headers, refused } = spend(endpoint);
      if (refused !== undefined) return refused;
      try {
        const response = handler(request);
        if (response.status === 200) countReads(endpoint, response.body);
        if (response.status === 201 && endpoint === 'createTweet') postsCreated++;
        return { ...response, headers: { ...headers, ...response.headers } };
      } catch (error) {
        if (error instanceof BadRequest) return problem(400, error.body, headers);
        throw error;
      }
    };

  const tweetsBy = (userId: string) => store.tweets().filter((t) => t.authorId === userId).length;

  /** `data` and `includes` for posts, with the fields and expansions asked for. */
  const expand = (
    request: SandboxRequest,
    shown: readonly XSandboxTweet[],
  ): { data: Record<string, unknown>[]; includes?: Record<string, unknown> } => {
    const tweetFields = readList(request.query, 'tweet.fields', TWEET_FIELDS);
    const userFields = readList(request.query, 'user.fields', USER_FIELDS);
    const expansions = readList(request.query, 'expansions', TWEET_EXPANSIONS);

    const userIds = new Set<string>();
    const tweetIds = new Set<string>();
    for (const tweet of shown) {
      if (expansions.has('author_id')) userIds.add(tweet.authorId);
      if (expansions.has('in_reply_to_user_id') && tweet.inReplyToUserId !== null) {
        userIds.add(tweet.inReplyToUserId);
      }
      if (expansions.has('entities.mentions.username')) {
        for (const m of tweet.entities.mentions) if (m.id !== undefined) userIds.add(m.id);
      }
      if (expansions.has('referenced_tweets.id') || expansions.has('referenced_tweets.id.author_id')) {
        for (const r of tweet.referencedTweets) {
          const referenced = store.tweet(r.id);
          if (referenced === undefined) continue;
          if (expansions.has('referenced_tweets.id')) tweetIds.add(r.id);
          if (expansions.has('referenced_tweets.id.author_id')) userIds.add(referenced.authorId);
        }
      }
    }
    const includes: Record<string, unknown> = {};
    const users = [...userIds].map((id) => store.user(id)).filter((u): u is XSandboxUser => u !== undefined);
    if (users.length > 0) includes.users = users.map((u) => serializeUser(u, userFields, tweetsBy(u.id)));
    const tweets = [...tweetIds]
      .map((id) => store.tweet(id))
      .filter((t): t is XSandboxTweet => t !== undefined);
    if (tweets.length > 0)
      includes.tweets = tweets.map((t) => serializeTweet(t, tweetFields, store.metrics(t.id)));
    const data = shown.map((t) => serializeTweet(t, tweetFields, store.metrics(t.id)));
    return Object.keys(includes).length > 0 ? { data, includes } : { data };
  };

  /** `data`, `includes` and `meta` for a page of posts (newest first); one past the page means a next page. */
  const page = (
    request: SandboxRequest,
    matching: readonly XSandboxTweet[],
    size: number,
  ): SandboxResponse => {
    const shown = matching.slice(0, size);
    const { data, includes } = expand(request, shown);
    if (shown.length === 0) return { status: 200, body: { meta: { result_count: 0 } } };
    const first = shown[0] as XSandboxTweet;
    const last = shown[shown.length - 1] as XSandboxTweet;
    const meta: Record<string, unknown> = {
      newest_id: first.id,
      oldest_id: last.id,
      result_count: shown.length,
    };
    if (matching.length > shown.length) meta.next_token = encodeToken(last.id);
    const body: Record<string, unknown> = { data };
    if (includes !== undefined) body.includes = includes;
    body.meta = meta;
    return { status: 200, body };
  };

  /**
   * Recent search covers the last seven days; X refuses an older `since_id` with a 400 naming the
   * oldest time and the smallest id it takes (wording recorded from the live API).
   */
  const checkRecent = (sinceId: string | undefined) => {
    if (sinceId === undefined) return;
    const windowStart = Date.now() - SEVEN_DAYS_MS;
    if (timeOfId(sinceId) > windowStart) return;
    // X names the minute (rounded up) and the first id of the next second.
    const after = Math.ceil(windowStart / 60_000) * 60_000;
    const minute = new Date(after).toISOString().slice(0, 16);
    throw new BadRequest(
      invalidRequest(
        'since_id',
        [sinceId],
        `'since_id' must be a tweet id created after ${minute}Z. Please use a 'since_id' that is larger than ${firstIdAt(after + 1000)}`,
      ),
    );
  };

  /** Posts newer than `since_id`, older than `until_id` and than the page token, newest first. */
  const idWindow = (request: SandboxRequest, tokenName: 'next_token' | 'pagination_token') => {
    const sinceId = readId(request.query, 'since_id');
    if (tokenName === 'next_token') checkRecent(sinceId);
    const untilId = readId(request.query, 'until_id');
    const below = decodeToken(request.query, tokenName);
    const startSecond = readTime(request.query, 'start_time');
    const endSecond = readTime(request.query, 'end_time');
    if (startSecond !== undefined && endSecond !== undefined && startSecond >= endSecond) {
      throw new BadRequest(
        invalidRequest(
          'start_time',
          [request.query.get('start_time') ?? ''],
          "Invalid 'start_time'. 'start_time' must be before 'end_time'.",
        ),
      );
    }
    const second = (tweet: XSandboxTweet) => Math.floor(Date.parse(tweet.createdAt) / 1000);
    return (tweet: XSandboxTweet) =>
      (sinceId === undefined || compareIds(tweet.id, sinceId) > 0) &&
      (untilId === undefined || compareIds(tweet.id, untilId) < 0) &&
      (below === undefined || compareIds(tweet.id, below) < 0) &&
      // Second granularity: start_time is inclusive, end_time exclusive (docs.x.com).
      (startSecond === undefined || second(tweet) >= startSecond) &&
      (endSecond === undefined || second(tweet) < endSecond);
  };

  const queryContext = {
    user: (id: string) => store.user(id),
    prepare: (tweet: XSandboxTweet) => preparePost(store.toPost(tweet)),
  };
  const compiled = (query: string): XQuery => {
    let found = queries.get(query);
    if (found === undefined) {
      found = compileXQuery(query, queryContext);
      queries.set(query, found);
    }
    return found;
  };

  const search = (request: SandboxRequest): SandboxResponse => {
    const query = request.query.get('query') ?? '';
    if (query.trim() === '') {
      throw new BadRequest(invalidRequest('query', [], 'The `query` query parameter can not be empty'));
    }
    if (query.length > maxQueryLength) {
      throw new BadRequest(
        invalidRequest(
          'query',
          [query],
          `There were errors processing your request: Query length exceeds the maximum of ${maxQueryLength} characters`,
        ),
      );
    }
    const size = readInt(request.query, 'max_results', 10, 100, 10);
    const inWindow = idWindow(request, 'next_token');
    const sinceId = request.query.get('since_id');
    let xQuery: XQuery;
    try {
      xQuery = compiled(query);
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      throw new BadRequest(
        invalidRequest('query', [query], `There were errors processing your request: ${error.message}`),
      );
    }
    const matching: XSandboxTweet[] = [];
    const all = store.tweets();
    for (let i = all.length - 1; i >= 0; i--) {
      const tweet = all[i] as XSandboxTweet;
      // Ids grow with each post stored, so nothing older than since_id can follow.
      if (sinceId !== null && compareIds(tweet.id, sinceId) <= 0) break;
      if (!inWindow(tweet)) continue;
      if (xQuery.matches(tweet)) matching.push(tweet);
      // One past the page is enough to know whether there is a next page.
      if (matching.length > size) break;
    }
    return page(request, matching, size);
  };

  const mentionsAccount = (tweet: XSandboxTweet) =>
    tweet.authorId === account.id ||
    tweet.entities.mentions.some((m) => m.username.toLowerCase() === account.username.toLowerCase());

  const createTweet = (request: SandboxRequest): SandboxResponse => {
    const text = request.body.text;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new BadRequest(
        invalidRequest('text', [], 'The `text` field is required when no media is attached'),
      );
    }
    if (!measureReply(text, 'x').ok) {
      throw new BadRequest(
        invalidRequest(
          'text',
          [text],
          'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
        ),
      );
    }
    const reply = request.body.reply as { in_reply_to_tweet_id?: unknown } | undefined;
    const targetId = typeof reply?.in_reply_to_tweet_id === 'string' ? reply.in_reply_to_tweet_id : undefined;
    const target = targetId === undefined ? undefined : store.tweet(targetId);
    if (targetId !== undefined && target === undefined) return problem(403, REPLY_TARGET_GONE);
    if (target !== undefined && replyRestricted && !mentionsAccount(target)) {
      return problem(403, REPLY_NOT_ALLOWED);
    }
    const duplicate = replies.some(
      (r) => r.text === text && (duplicates === 'account' || r.inReplyTo === (targetId ?? '')),
    );
    if (duplicate) return problem(403, DUPLICATE_CONTENT);

    const targetAuthor = target === undefined ? undefined : store.user(target.authorId);
    // A reply's stored text starts with the author it answers, as X's timelines show it.
    const stored = store.addTweet({
      text: targetAuthor === undefined ? text : `@${targetAuthor.username} ${text}`,
      authorId: account.id,
      inReplyTo: targetId,
    });
    const idempotencyKey = request.headers['idempotency-key'];
    replies.push({
      id: stored.id,
      inReplyTo: targetId ?? '',
      text,
      idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : null,
      visibility: null,
      createdAt: stored.createdAt,
    });
    return { status: 201, body: { data: { id: stored.id, text, edit_history_tweet_ids: [stored.id] } } };
  };

  // The user's 24-hour cap on posting, counted per request like X's other limits.
  let daily: { remaining: number; resetAt: number } | null = null;
  const createTweetWithinDailyCap = (request: SandboxRequest): SandboxResponse => {
    const limit = options.userDailyPostLimit;
    if (limit === undefined) return createTweet(request);
    if (daily === null || daily.resetAt <= nowSeconds()) {
      daily = { remaining: limit, resetAt: nowSeconds() + 24 * 60 * 60 };
    }
    const capHeaders = (remaining: number) => ({
      'x-user-limit-24hour-limit': String(limit),
      'x-user-limit-24hour-remaining': String(remaining),
      'x-user-limit-24hour-reset': String((daily as { resetAt: number }).resetAt),
    });
    if (daily.remaining <= 0) return problem(429, TOO_MANY_REQUESTS, capHeaders(0));
    daily.remaining--;
    const response = createTweet(request);
    return { ...response, headers: { ...capHeaders(daily.remaining), ...response.headers } };
  };

  const me = (request: SandboxRequest): SandboxResponse => {
    const userFields = readList(request.query, 'user.fields', USER_FIELDS);
    readList(request.query, 'expansions', USER_EXPANSIONS);
    return { status: 200, body: { data: serializeUser(store.account, userFields, tweetsBy(account.id)) } };
  };

  const userTweets = (request: SandboxRequest): SandboxResponse => {
    const userId = request.params.id ?? '';
    if (!ID.test(userId)) {
      throw new BadRequest(
        invalidRequest(
          'id',
          [userId],
          `The \`id\` query parameter value [${userId}] does not match ^[0-9]{1,19}$`,
        ),
      );
    }
    const size = readInt(request.query, 'max_results', 5, 100, 10);
    const exclude = readList(request.query, 'exclude', new Set(['retweets', 'replies']));
    const inWindow = idWindow(request, 'pagination_token');
    if (store.user(userId) === undefined) {
      return { status: 200, body: { errors: [resourceNotFound('user', 'id', userId)] } };
    }
    const matching = store
      .tweets()
      .filter(
        (t) =>
          t.authorId === userId &&
          inWindow(t) &&
          !(exclude.has('retweets') && t.referencedTweets.some((r) => r.type === 'retweeted')) &&
          !(exclude.has('replies') && t.referencedTweets.some((r) => r.type === 'replied_to')),
      )
      .reverse();
    return page(request, matching, size);
  };

  const pathId = (request: SandboxRequest): string => {
    const id = request.params.id ?? '';
    if (!ID.test(id)) {
      throw new BadRequest(
        invalidRequest('id', [id], `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`),
      );
    }
    return id;
  };

  /** The user mention timeline: posts whose mentions name the user, newest first, the 800 most recent. */
  const mentions = (request: SandboxRequest): SandboxResponse => {
    const userId = pathId(request);
    const size = readInt(request.query, 'max_results', 5, 100, 10);
    const inWindow = idWindow(request, 'pagination_token');
    const user = store.user(userId);
    if (user === undefined)
      return { status: 200, body: { errors: [resourceNotFound('user', 'id', userId)] } };
    const name = user.username.toLowerCase();
    const mentioning = store
      .tweets()
      .filter((t) => t.entities.mentions.some((m) => m.id === userId || m.username.toLowerCase() === name))
      .slice(-MENTIONS_DEPTH)
      .reverse();
    return page(request, mentioning.filter(inWindow), size);
  };

  /** Who liked a post, most recent first, as users with the fields asked for. */
  const likingUsers = (request: SandboxRequest): SandboxResponse => {
    const tweetId = pathId(request);
    const size = readInt(request.query, 'max_results', 1, 100, 100);
    const userFields = readList(request.query, 'user.fields', USER_FIELDS);
    readList(request.query, 'expansions', USER_EXPANSIONS);
    readList(request.query, 'tweet.fields', TWEET_FIELDS);
    const offset = Number(decodeToken(request.query, 'pagination_token') ?? '0');
    if (store.tweet(tweetId) === undefined) {
      return { status: 200, body: { errors: [resourceNotFound('tweet', 'id', tweetId)] } };
    }
    const likers = store.likingUsers(tweetId);
    const shown = likers
      .slice(offset, offset + size)
      .map((id) => store.user(id))
      .filter((u): u is XSandboxUser => u !== undefined);
    if (shown.length === 0) return { status: 200, body: { meta: { result_count: 0 } } };
    const meta: Record<string, unknown> = { result_count: shown.length };
    if (offset + size < likers.length) meta.next_token = encodeToken(String(offset + size));
    return {
      status: 200,
      body: { data: shown.map((u) => serializeUser(u, userFields, tweetsBy(u.id))), meta },
    };
  };

  /** Post lookup by ids (1–100): found posts in the order asked for, the missing ones as errors. */
  const lookup = (request: SandboxRequest): SandboxResponse => {
    const raw = request.query.get('ids') ?? '';
    const ids = raw === '' ? [] : raw.split(',');
    if (ids.length === 0 || ids.length > 100) {
      throw new BadRequest(
        invalidRequest(
          'ids',
          [raw],
          `The number of values in the \`ids\` query parameter list [${ids.length}] is not between 1 and 100`,
        ),
      );
    }
    const wrong = ids.find((id) => !ID.test(id));
    if (wrong !== undefined) {
      throw new BadRequest(
        invalidRequest('ids', [wrong], `The \`ids\` query parameter value [${wrong}] is not valid`),
      );
    }
    const found = ids.map((id) => store.tweet(id)).filter((t): t is XSandboxTweet => t !== undefined);
    const missing = ids.filter((id) => store.tweet(id) === undefined);
    const { data, includes } = expand(request, found);
    const body: Record<string, unknown> = {};
    if (data.length > 0) body.data = data;
    if (includes !== undefined) body.includes = includes;
    if (missing.length > 0) body.errors = missing.map((id) => resourceNotFound('tweet', 'id', id));
    return { status: 200, body };
  };

  /** One post by id; a missing one is a 200 carrying only `errors`, as X answers it. */
  const lookupOne = (request: SandboxRequest): SandboxResponse => {
    const id = pathId(request);
    const tweet = store.tweet(id);
    const { data, includes } = expand(request, tweet === undefined ? [] : [tweet]);
    if (tweet === undefined) return { status: 200, body: { errors: [resourceNotFound('tweet', 'id', id)] } };
    return { status: 200, body: includes === undefined ? { data: data[0] } : { data: data[0], includes } };
  };

  const faults = createFaultInjector();
  const server = await startHttpServer({
    routes: [
      { method: 'GET', path: '/2/tweets/search/recent', handler: route('search', search) },
      {
        method: 'POST',
        path: '/2/tweets',
        handler: async (request) => {
          const response = route('createTweet', createTweetWithinDailyCap)(request);
          const delayMs = response.status === 201 ? lateAnswers.shift() : undefined;
          if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
          return response;
        },
      },
      { method: 'GET', path: '/2/users/me', handler: route('usersMe', me) },
      { method: 'GET', path: '/2/users/:id/tweets', handler: route('userTweets', userTweets) },
      { method: 'GET', path: '/2/users/:id/mentions', handler: route('mentions', mentions) },
      { method: 'GET', path: '/2/tweets/:id/liking_users', handler: route('likingUsers', likingUsers) },
      { method: 'GET', path: '/2/tweets', handler: route('tweetsLookup', lookup) },
      { method: 'GET', path: '/2/tweets/:id', handler: route('tweetLookup', lookupOne) },
    ],
    // Every request passes through `take`, faulted or not: the one place to count them all.
    faults: {
      inject: (rule) => faults.inject(rule),
      take(method, path) {
        requests.push(path);
        return faults.take(method, path);
      },
      clear: () => faults.clear(),
      get pending() {
        return faults.pending;
      },
    },
    rateLimited: (resetInSeconds) =>
      problem(429, TOO_MANY_REQUESTS, rateHeaders(searchLimit, 0, nowSeconds() + resetInSeconds)),
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    url: server.url,
    bearerToken,
    account,
    faults,
    addPost: (input) => store.addPost(input),
    addReply(inReplyTo, input) {
      const target = store.tweet(inReplyTo);
      if (target === undefined) throw new Error(`x sandbox: no post ${inReplyTo} to reply to`);
      const targetAuthor = store.user(target.authorId) ?? store.account;
      const prefix = `@${targetAuthor.username}`;
      const text = input.text.toLowerCase().startsWith(prefix.toLowerCase())
        ? input.text
        : `${prefix} ${input.text}`;
      return store.addPost({ ...input, text, inReplyTo });
    },
    addLike(tweetId, author) {
      if (store.tweet(tweetId) === undefined) throw new Error(`x sandbox: no post ${tweetId} to like`);
      store.addLike(tweetId, store.userFor(author).id);
    },
    usage() {
      const endpoints: Record<string, XEndpointUsage> = {};
      let requests = 0;
      let postsRead = 0;
      let usersRead = 0;
      for (const [endpoint, entry] of usageByEndpoint) {
        endpoints[ENDPOINT_NAMES[endpoint]] = { ...entry };
        requests += entry.requests;
        postsRead += entry.postsRead;
        usersRead += entry.usersRead;
      }
      let billedPostReads = 0;
      for (const key of billed) if (key.includes(':post:')) billedPostReads++;
      return {
        endpoints,
        requests,
        postsRead,
        usersRead,
        billedPostReads,
        billedUserReads: billed.size - billedPostReads,
        postsCreated,
      };
    },
    resetUsage() {
      usageByEndpoint.clear();
      billed.clear();
      postsCreated = 0;
    },
    replies: () => [...replies],
    posts: () => [...store.tweets()],
    setReplyRestricted(restricted) {
      replyRestricted = restricted;
    },
    delayReplyAnswers(delayMs, times = 1) {
      for (let i = 0; i < times; i++) lateAnswers.push(delayMs);
    },
    resetRateLimit() {
      buckets.clear();
    },
    requestCount: (path) =>
      path === undefined ? requests.length : requests.filter((p) => p.startsWith(path)).length,
    close: () => server.close(),
  };
}
