import { measureReply, type Post, X_MAX_WEIGHTED_LENGTH } from '@kikimimi/rules';
import { ApiResponseError } from 'twitter-api-v2';
import {
  AuthFailedError,
  ConnectorError,
  PermanentError,
  RateLimitedError,
  ReplyNotAllowedError,
  TransientError,
} from '../errors.ts';
import type {
  AccountIdentity,
  ActivityItem,
  ActivityResult,
  Connector,
  PollOptions,
  PollResult,
  PollSource,
  RateLimitState,
  RejectedItem,
  ReplyResult,
  ReplyTarget,
} from '../types.ts';
import { createXApiClient, secretsOf, X_API_ORIGIN, type XCredentials } from './x-client.ts';
import {
  compareIds,
  decodeCursor,
  encodeCursor,
  idAt,
  isEmptyRange,
  maxId,
  offsetId,
  type XCursor,
} from './x-cursor.ts';
import {
  createRedactor,
  describeProblem,
  isAccessProblem,
  isDuplicateContent,
  isStaleSinceId,
  problemOf,
  problemText,
  rateLimitState,
  toConnectorError,
  type XOperation,
} from './x-errors.ts';
import { fullText, normalizePage, pageIds } from './x-normalize.ts';
import {
  describeIssues,
  type XPage,
  type XTweet,
  xCreatedSchema,
  xMeSchema,
  xPageSchema,
  xTweetSchema,
} from './x-schemas.ts';

/** How to reach X and as whom. */
export interface XConnectorOptions {
  /** Where the X API answers (default `https://api.x.com`); a local stand-in's URL for tests and demos. */
  readonly baseUrl?: string;
  readonly credentials: XCredentials;
  /** Per-request timeout in milliseconds (default 30 000). */
  readonly timeoutMs?: number;
}

// What a post needs to become a `Post`; note_tweet carries the whole text of posts over 280 characters.
const TWEET_FIELDS = [
  'created_at',
  'lang',
  'author_id',
  'conversation_id',
  'entities',
  'referenced_tweets',
  'in_reply_to_user_id',
  'note_tweet',
];
const USER_FIELDS = ['username', 'name', 'public_metrics', 'protected'];

const DEFAULT_PAGE_BUDGET = 5;
const DEFAULT_PAGE_SIZE = 100;
// Finished replies remembered per idempotency key, so a retry in the same process does not even ask X.
const REMEMBERED_REPLIES = 1000;
// Looking for an earlier reply reads the account's own posts, which X bills per post: small pages first.
const LOOKUP_PAGE_SIZE = 25;
const LOOKUP_PAGES = 4;

/** The composer with the reply filled in, for a person to post by hand when the API may not. */
export function xIntentReplyUrl(postId: string, text: string): string {
  return `https://x.com/intent/post?in_reply_to=${encodeURIComponent(postId)}&text=${encodeURIComponent(text)}`;
}

/** Text compared for "is this our earlier reply": X prefixes the replied-to @name and rewrites links. */
function comparableReplyText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/^(?:[@＠][A-Za-z0-9_]{1,15}\s+)+/u, '')
    .replace(/https?:\/\/\S+/gu, '<link>')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Recent search covers seven days; a cursor older than that is refused ("'since_id' must be a tweet id
 * created after …") on every poll. The cursor then restarts this far inside the window, so that the
 * window's edge does not overtake it during the poll.
 */
const SEARCH_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
const RESTART_MARGIN_MS = 5 * 60 * 1000;
/**
 * A first poll that finds nothing listens from the time it started, less this: posts reach recent
 * search a few seconds after they are made, and our clock and X's may differ a little.
 */
const FIRST_POLL_LAG_MS = 60 * 1000;

/** `t:<ISO time>` → the time, for `start_time`; null when it is not one. */
function sinceTime(cursor: string): { time: string } | null {
  const match = /^t:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z)$/u.exec(cursor);
  return match?.[1] !== undefined && !Number.isNaN(Date.parse(match[1])) ? { time: match[1] } : null;
}

/** Thrown by searchPage when X refuses the cursor as older than its window; poll() restarts it. */
class StaleCursor extends Error {}

/** One segment's pages as read in this poll: handed on only if its bottom is reached. */
interface SegmentRead {
  readonly posts: Post[];
  readonly rejected: RejectedItem[];
  /** Newest and oldest id of each page read, in reading order (newest page first). */
  readonly pages: Array<{ newest: string; oldest: string }>;
  /** Reached the bottom: no further page, or the last page reached the id just above `sinceId`. */
  bottom: boolean;
}

/** A connector for X (API v2 through twitter-api-v2): recent search, replies, the account. */
export function createXConnector(options: XConnectorOptions): Connector {
  const client = createXApiClient(
    options.baseUrl ?? X_API_ORIGIN,
    options.credentials,
    options.timeoutMs ?? 30_000,
  );
  const redact = createRedactor(secretsOf(options.credentials));
  const fail = (error: unknown, operation: XOperation) => toConnectorError(error, operation, redact);
  const sent = new Map<string, ReplyResult>();
  let account: AccountIdentity | null = null;

  const unreadable = (operation: XOperation, detail: string) =>
    new TransientError('x', redact(`X ${operation} answered with a body kikimimi cannot read: ${detail}`));

  async function searchPage(
    query: string,
    range: {
      sinceId: string | null;
      untilId: string | null;
      nextToken: string | undefined;
      pageSize: number;
    },
  ): Promise<{ page: XPage; rateLimit: RateLimitState | null }> {
    let response: { data: unknown; rateLimit?: { limit: number; remaining: number; reset: number } };
    try {
      // The raw body (not the library's typed paginator) so that zod checks what X really sent.
      response = await client.v2.get<unknown>(
        'tweets/search/recent',
        {
          query,
          max_results: range.pageSize,
          since_id: range.sinceId ?? undefined,
          until_id: range.untilId ?? undefined,
          next_token: range.nextToken,
          expansions: ['author_id'],
          'tweet.fields': TWEET_FIELDS,
          'user.fields': USER_FIELDS,
        },
        { fullResponse: true },
      );
    } catch (error) {
      if (error instanceof ApiResponseError && error.code === 400 && isStaleSinceId(problemOf(error))) {
        throw new StaleCursor(redact(describeProblem(problemOf(error))));
      }
      throw fail(error, 'search');
    }
    const parsed = xPageSchema.safeParse(response.data);
    if (!parsed.success) throw unreadable('search', describeIssues(parsed.error));
    return { page: parsed.data, rateLimit: rateLimitState(response.rateLimit) };
  }

  /** Reads segment `(sinceId, upper)` newest → oldest, until its bottom or the end of the budget. */
  async function readSegment(
    query: string,
    sinceId: string | null,
    upper: string | null,
    pageSize: number,
    poll: { pages: number; budget: number; postsRead: number; rateLimit: RateLimitState | null },
    signal: AbortSignal | undefined,
  ): Promise<SegmentRead> {
    const segment: SegmentRead = { posts: [], rejected: [], pages: [], bottom: false };
    let nextToken: string | undefined;
    while (poll.pages < poll.budget) {
      signal?.throwIfAborted();
      let result: Awaited<ReturnType<typeof searchPage>>;
      try {
        result = await searchPage(query, { sinceId, untilId: upper, nextToken, pageSize });
      } catch (error) {
        // Pages already read were paid for: stop, keep what is complete, let the cursor say where to go on.
        if (error instanceof ConnectorError && error.retryable && poll.pages > 0) {
          if (error instanceof RateLimitedError) {
            poll.rateLimit = { limit: poll.rateLimit?.limit ?? 0, remaining: 0, resetAt: error.resetAt };
          }
          return segment;
        }
        throw error;
      }
      poll.pages++;
      poll.postsRead += result.page.data?.length ?? 0;
      poll.rateLimit = result.rateLimit ?? poll.rateLimit;
      const { posts, rejected } = normalizePage(result.page);
      segment.posts.push(...posts);
      segment.rejected.push(...rejected);
      const ids = pageIds(result.page).sort(compareIds);
      const oldest = ids[0];
      const newest = ids[ids.length - 1];
      if (oldest !== undefined && newest !== undefined) segment.pages.push({ newest, oldest });
      nextToken = result.page.meta.next_token;
      // X may hand out a token for an empty last page; a page reaching the id right above sinceId is the bottom.
      if (nextToken === undefined || (oldest !== undefined && isEmptyRange(sinceId, oldest))) {
        segment.bottom = true;
        return segment;
      }
    }
    return segment;
  }

  async function poll(
    source: PollSource,
    cursor: string | null,
    options: PollOptions = {},
  ): Promise<PollResult> {
    if (source.platform !== 'x' || source.kind !== 'search') {
      throw new PermanentError(
        'x',
        `the X connector polls X searches, not ${source.platform} ${source.kind}`,
      );
    }
    // X refuses page sizes outside 10–100 with a 400; clamp rather than fail the poll.
    const pageSize = Math.min(100, Math.max(10, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE)));
    let state: XCursor;
    try {
      state = decodeCursor(cursor);
    } catch (error) {
      throw new PermanentError(
        'x',
        `the stored cursor of ${source.key} is unreadable: ${(error as Error).message}`,
      );
    }
    let { sinceId } = state;
    const bounds = [...state.bounds];
    const progress = {
      pages: 0,
      budget: Math.max(1, Math.floor(options.pageBudget ?? DEFAULT_PAGE_BUDGET)),
      postsRead: 0,
      rateLimit: null as RateLimitState | null,
    };
    const posts = new Map<string, Post>();
    const rejected: RejectedItem[] = [];
    let caughtUp = false;
    let restarted: { from: Date; reason: string } | undefined;
    // A first poll starts from now: one page of the newest posts, not X's whole seven-day window
    // (every post read is billed, and a new watch is about what people say from now on).
    const firstPoll = sinceId === null && bounds.length === 0;
    if (firstPoll) progress.budget = 1;
    const startedAt = Date.now();

    while (progress.pages < progress.budget) {
      const upper = bounds[0] ?? null;
      if (upper !== null && isEmptyRange(sinceId, upper)) {
        bounds.shift();
        continue;
      }
      let segment: SegmentRead;
      try {
        segment = await readSegment(source.query, sinceId, upper, pageSize, progress, options.signal);
      } catch (error) {
        if (!(error instanceof StaleCursor) || restarted !== undefined) throw error;
        // Posts older than the window cannot be read any more: start again inside it, keep the
        // pending segments that still lie there, and say so in the result.
        const from = new Date(Date.now() - SEARCH_WINDOW_MS + RESTART_MARGIN_MS);
        sinceId = idAt(from);
        const start = sinceId;
        const kept = bounds.filter((bound) => compareIds(bound, start) > 0);
        bounds.splice(0, bounds.length, ...kept);
        restarted = { from, reason: `X refused the stored cursor of ${source.key}: ${error.message}` };
        continue;
      }
      if (segment.bottom) {
        // The whole segment is in hand: hand it on, lowest segment first, and move sinceId to its top.
        for (const post of segment.posts) posts.set(post.id, post);
        rejected.push(...segment.rejected);
        if (upper === null) {
          sinceId = maxId(sinceId, segment.pages[0]?.newest);
          // Nothing found yet: from now on, not "first poll" again. Left null, the next poll would
          // read one page of the newest posts only, and a burst bigger than a page in between would
          // lose its oldest posts.
          if (sinceId === null && firstPoll) sinceId = idAt(new Date(startedAt - FIRST_POLL_LAG_MS));
          caughtUp = true;
          break;
        }
        sinceId = offsetId(upper, -1n);
        bounds.shift();
        continue;
      }
      if (firstPoll) {
        for (const post of segment.posts) posts.set(post.id, post);
        rejected.push(...segment.rejected);
        sinceId = segment.pages[0]?.newest ?? null;
        caughtUp = segment.pages.length > 0;
        break;
      }
      // Out of budget (or failed) above the bottom: each page read becomes a one-page segment, read
      // again later from the bottom up; the rest of this segment, below them, comes first.
      const first = segment.pages[0];
      if (first !== undefined) {
        const top = upper ?? offsetId(first.newest, 1n);
        const split = segment.pages.map((page) => page.oldest).reverse();
        bounds.splice(0, upper === null ? 0 : 1, ...split, top);
      }
      break;
    }

    return {
      posts: [...posts.values()].sort((a, b) => compareIds(a.id, b.id)),
      cursor: encodeCursor({ sinceId, bounds }),
      caughtUp: caughtUp && bounds.length === 0,
      pages: progress.pages,
      postsRead: progress.postsRead,
      rateLimit: progress.rateLimit,
      rejected,
      ...(restarted === undefined ? {} : { restarted }),
    };
  }

  async function verifyCredentials(): Promise<AccountIdentity> {
    let body: unknown;
    try {
      body = await client.v2.get<unknown>('users/me', { 'user.fields': ['username', 'name'] });
    } catch (error) {
      throw fail(error, 'verify credentials');
    }
    const parsed = xMeSchema.safeParse(body);
    if (!parsed.success) throw unreadable('verify credentials', describeIssues(parsed.error));
    const { id, username, name } = parsed.data.data;
    account = { platform: 'x', id, handle: username, displayName: name };
    return account;
  }

  const postUrl = (handle: string, id: string) => `https://x.com/${handle}/status/${id}`;

  /**
   * Our own tweet with this text among the account's recent posts (`exclude`: what the timeline leaves
   * out), the first that `fits`; null when there is none. `what` names the lookup in errors.
   */
  async function findEarlier(
    userId: string,
    text: string,
    what: 'reply lookup' | 'post lookup',
    exclude: readonly ('retweets' | 'replies')[],
    fits: (tweet: XTweet) => boolean,
  ): Promise<string | null> {
    const wanted = comparableReplyText(text);
    let paginationToken: string | undefined;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      let body: unknown;
      try {
        body = await client.v2.get<unknown>(
          'users/:id/tweets',
          {
            max_results: LOOKUP_PAGE_SIZE,
            exclude: [...exclude],
            pagination_token: paginationToken,
            'tweet.fields': TWEET_FIELDS,
          },
          { params: { id: userId } },
        );
      } catch (error) {
        throw fail(error, what);
      }
      const parsed = xPageSchema.safeParse(body);
      if (!parsed.success) throw unreadable(what, describeIssues(parsed.error));
      for (const raw of parsed.data.data ?? []) {
        const tweet = xTweetSchema.safeParse(raw);
        if (!tweet.success) continue;
        if (fits(tweet.data) && comparableReplyText(fullText(tweet.data)) === wanted) return tweet.data.id;
      }
      paginationToken = parsed.data.meta.next_token;
      if (paginationToken === undefined) break;
    }
    return null;
  }

  /** Our own reply to `postId` with this text among the account's recent posts, if there is one. */
  const findEarlierReply = (userId: string, postId: string, text: string) =>
    findEarlier(
      userId,
      text,
      'reply lookup',
      ['retweets'],
      (tweet) => tweet.referenced_tweets?.some((r) => r.type === 'replied_to' && r.id === postId) === true,
    );

  /** A 403 to a reply: our own earlier reply (duplicate), or the typed error saying why not. */
  async function whenRefused(
    error: ApiResponseError,
    target: ReplyTarget,
    text: string,
    me: AccountIdentity,
  ): Promise<ReplyResult> {
    const problem = problemOf(error);
    const said = redact(describeProblem(problem));
    if (isDuplicateContent(problem)) {
      // X has no idempotency key. A retry after a lost response lands here: find the first reply.
      const earlier = await findEarlierReply(me.id, target.postId, text);
      if (earlier !== null) return { id: earlier, url: postUrl(me.handle, earlier) };
      throw new PermanentError(
        'x',
        `X refused the reply to ${target.postId} as duplicate content (${said}) and no earlier reply with this text to that post is among the account's recent posts; X does not take the same text twice, so vary it`,
      );
    }
    const detail = problemText(problem);
    if (/deleted or not visible/iu.test(detail)) {
      throw new PermanentError(
        'x',
        `X refused the reply: post ${target.postId} is deleted or not visible (${said})`,
      );
    }
    if (/too long/iu.test(detail)) throw new PermanentError('x', `X refused the reply as too long (${said})`);
    if (isAccessProblem(problem)) {
      throw new AuthFailedError('x', `X refused the reply: the credentials may not post (${said})`);
    }
    // Since February 2026 X refuses API replies to posts that did not mention the account; a person can still reply.
    throw new ReplyNotAllowedError(
      'x',
      `X refused an API reply to post ${target.postId} (${said}); post it by hand`,
      xIntentReplyUrl(target.postId, text),
    );
  }

  async function reply(target: ReplyTarget, text: string, { idempotencyKey }: { idempotencyKey: string }) {
    const remembered = sent.get(idempotencyKey);
    if (remembered !== undefined) return remembered;
    const length = measureReply(text, 'x');
    if (!length.ok) {
      throw new PermanentError(
        'x',
        `the reply weighs ${length.length} of X's ${length.limit} characters (or is blank); shorten it`,
      );
    }
    const me = account ?? (await verifyCredentials());
    let result: ReplyResult;
    try {
      const body: unknown = await client.v2.reply(text, target.postId);
      const parsed = xCreatedSchema.safeParse(body);
      if (!parsed.success) throw unreadable('reply', describeIssues(parsed.error));
      result = { id: parsed.data.data.id, url: postUrl(me.handle, parsed.data.data.id) };
    } catch (error) {
      if (error instanceof ApiResponseError && error.code === 403) {
        result = await whenRefused(error, target, text, me);
      } else {
        throw fail(error, 'reply');
      }
    }
    if (sent.size >= REMEMBERED_REPLIES) sent.delete(sent.keys().next().value as string);
    sent.set(idempotencyKey, result);
    return result;
  }

  /** Our own post (not a reply) with this text among the account's recent posts, if there is one. */
  const findEarlierPost = (userId: string, text: string) =>
    findEarlier(
      userId,
      text,
      'post lookup',
      ['retweets', 'replies'],
      (tweet) => tweet.referenced_tweets?.some((r) => r.type === 'replied_to') !== true,
    );

  /**
   * A post of the account's own (a surge's announcement). X has no idempotency key: a retry after a
   * lost response is refused as duplicate content, and the earlier post with this text is returned.
   */
  async function post(text: string, { idempotencyKey }: { idempotencyKey: string }): Promise<ReplyResult> {
    const remembered = sent.get(idempotencyKey);
    if (remembered !== undefined) return remembered;
    const length = measureReply(text, 'x');
    if (!length.ok) {
      throw new PermanentError(
        'x',
        `the post weighs ${length.length} of X's ${length.limit} characters (or is blank); shorten it`,
      );
    }
    const me = account ?? (await verifyCredentials());
    let result: ReplyResult;
    try {
      const body: unknown = await client.v2.tweet(text);
      const parsed = xCreatedSchema.safeParse(body);
      if (!parsed.success) throw unreadable('post', describeIssues(parsed.error));
      result = { id: parsed.data.data.id, url: postUrl(me.handle, parsed.data.data.id) };
    } catch (error) {
      if (!(error instanceof ApiResponseError && error.code === 403)) throw fail(error, 'post');
      const problem = problemOf(error);
      const said = redact(describeProblem(problem));
      if (!isDuplicateContent(problem)) {
        if (isAccessProblem(problem))
          throw new AuthFailedError('x', `X refused the post: the credentials may not post (${said})`);
        throw new PermanentError('x', `X refused the post (${said})`);
      }
      const earlier = await findEarlierPost(me.id, text);
      if (earlier === null) {
        throw new PermanentError(
          'x',
          `X refused the post as duplicate content (${said}) and no earlier post with this text is among the account's recent posts; X does not take the same text twice, so vary it`,
        );
      }
      result = { id: earlier, url: postUrl(me.handle, earlier) };
    }
    if (sent.size >= REMEMBERED_REPLIES) sent.delete(sent.keys().next().value as string);
    sent.set(idempotencyKey, result);
    return result;
  }

  /**
   * Answers to the account's posts from its mention timeline (`GET /2/users/:id/mentions`): every reply
   * to one of our posts mentions us, so one request a call covers all followed conversations, however
   * many (X bills each post read). The timeline pages newest first: when more arrived than the budget
   * reads, the oldest are skipped and `caughtUp` is false. Likes are not read: X tells who liked a post
   * only one post per request (`liking_users`), which followed cases cannot afford.
   */
  async function activity(
    cursor: string | null,
    options: { pageBudget?: number; signal?: AbortSignal } = {},
  ): Promise<ActivityResult> {
    // The cursor is the newest id handed on, or `t:<time>` when the first call found nothing yet.
    const since = cursor === null ? null : /^\d{1,19}$/u.test(cursor) ? { id: cursor } : sinceTime(cursor);
    if (cursor !== null && since === null) {
      throw new PermanentError(
        'x',
        `the stored activity cursor is unreadable: ${JSON.stringify(cursor.slice(0, 40))}`,
      );
    }
    let requests = account === null ? 1 : 0;
    const me = account ?? (await verifyCredentials());
    // From now on: the first call reads one small page, to find where "now" is.
    const budget = cursor === null ? 1 : Math.max(1, Math.floor(options.pageBudget ?? 3));
    const startedAt = new Date();
    const posts = new Map<string, Post>();
    const rejected: RejectedItem[] = [];
    let newest = since !== null && 'id' in since ? since.id : null;
    let postsRead = 0;
    let rateLimit: RateLimitState | null = null;
    let nextToken: string | undefined;
    let caughtUp = false;
    for (let page = 0; page < budget; page++) {
      options.signal?.throwIfAborted();
      let response: { data: unknown; rateLimit?: { limit: number; remaining: number; reset: number } };
      try {
        response = await client.v2.get<unknown>(
          'users/:id/mentions',
          {
            max_results: cursor === null ? 5 : DEFAULT_PAGE_SIZE,
            since_id: since !== null && 'id' in since ? since.id : undefined,
            start_time: since !== null && 'time' in since ? since.time : undefined,
            pagination_token: nextToken,
            expansions: ['author_id'],
            'tweet.fields': TWEET_FIELDS,
            'user.fields': USER_FIELDS,
          },
          { params: { id: me.id }, fullResponse: true },
        );
      } catch (error) {
        throw fail(error, 'mentions');
      }
      requests++;
      const parsed = xPageSchema.safeParse(response.data);
      if (!parsed.success) throw unreadable('mentions', describeIssues(parsed.error));
      rateLimit = rateLimitState(response.rateLimit) ?? rateLimit;
      postsRead += parsed.data.data?.length ?? 0;
      const normalized = normalizePage(parsed.data);
      rejected.push(...normalized.rejected);
      for (const post of normalized.posts) posts.set(post.id, post);
      for (const id of pageIds(parsed.data)) newest = maxId(newest, id);
      nextToken = parsed.data.meta.next_token;
      if (nextToken === undefined || cursor === null) {
        caughtUp = true;
        break;
      }
    }
    const items: ActivityItem[] = [...posts.values()]
      .filter((post) => post.inReplyTo !== null && post.author.id !== me.id)
      .sort((a, b) => compareIds(a.id, b.id))
      .map((post) => ({ kind: 'answer', post }));
    // Nothing seen yet: from the time of this call on (X's mention timeline takes start_time).
    const next = newest ?? (since !== null && 'time' in since ? cursor : `t:${startedAt.toISOString()}`);
    return { items, cursor: next, caughtUp, requests, postsRead, rateLimit, rejected };
  }

  return {
    platform: 'x',
    poll,
    reply,
    post,
    activity,
    verifyCredentials,
    maxReplyLength: async () => X_MAX_WEIGHTED_LENGTH,
  };
}
