import {
  MASTODON_DEFAULT_MAX_CHARACTERS,
  type Post,
  replyAsPosted,
  UnmentionableHandleError,
} from '@kikimimi/rules';
import { createRestAPIClient, MastoHttpError, type mastodon } from 'masto';
import { z } from 'zod';
import { AuthFailedError, PermanentError, TransientError } from '../errors.ts';
import type {
  AccountIdentity,
  ActivityItem,
  ActivityResult,
  Connector,
  InstanceInfo,
  PollOptions,
  PollResult,
  PollSource,
  RateLimitState,
  RejectedItem,
  ReplyOptions,
  ReplyResult,
  ReplyTarget,
  StreamEvent,
  StreamOptions,
  StreamSource,
} from '../types.ts';
import { compareIds, decodeCursor, encodeCursor, idBefore, type MastodonCursor } from './mastodon-cursor.ts';
import { type MastodonOperation, readRateLimit, toConnectorError } from './mastodon-errors.ts';
import { watchFailedAnswers } from './mastodon-http-status.ts';
import { normalizeStatus } from './mastodon-normalize.ts';
import {
  describeIssues,
  type MastodonInstance,
  mastodonAccountSchema,
  mastodonInstanceSchema,
  mastodonNotificationSchema,
  mastodonSearchSchema,
} from './mastodon-schemas.ts';
import { type ReconnectPolicy, streamEvents } from './mastodon-stream.ts';

/** How to reach one Mastodon account. */
export interface MastodonConnectorOptions {
  /** The instance's origin, e.g. `https://mastodon.social` (or a stand-in's `http://127.0.0.1:PORT`). */
  readonly url: string;
  /** A user token with `read` and `write:statuses` (`read:statuses` is what public streams need since 4.2). */
  readonly accessToken: string;
  /** Streaming server; default: the instance's `configuration.urls.streaming`, else `url`. */
  readonly streamingUrl?: string;
  /** Visibility of replies unless a reply says otherwise (default `unlisted`: no public timelines). */
  readonly visibility?: 'public' | 'unlisted' | 'private' | 'direct';
  /** Per-request timeout for REST calls (default 30 s; masto has none of its own). */
  readonly timeoutMs?: number;
  /** Stream reconnection timing (default: 1 s doubling to 30 s, with jitter). */
  readonly reconnect?: ReconnectPolicy;
  /**
   * How far below the cursor a hashtag poll re-reads for remote posts that federated late (default
   * 10 minutes; 0 turns it off). See MastodonCursor.late.
   */
  readonly lateWindowMs?: number;
}

/** Largest page Mastodon serves for statuses (`limit` is capped at twice the default of 20). */
export const MASTODON_MAX_PAGE_SIZE = 40;
/** Versions whose search refuses `min_id`/`max_id` (mastodon#32731, fixed in 4.3.2); forks append `+name`. */
const SEARCH_ID_BOUNDS_BUG = /^4\.3\.[01](?!\d)/u;

/** Mastodon's 422 for a search id bound it turned into an unparsable date. */
const isInvalidDate = (error: unknown): boolean =>
  error instanceof MastoHttpError && error.statusCode === 422 && /invalid date/iu.test(error.message);

const DEFAULT_LATE_WINDOW_MS = 10 * 60 * 1000;
/** The cursor of a source that has never had a post: ids are positive, so every item comes after it. */
const NOTHING_YET = '0';

// Ids of the late window kept in the cursor; past this the window shrinks (a tag busier than this
// in the window re-reads a shorter stretch).
const MAX_LATE_SEEN = 400;
// Instance limits change rarely (an admin edits them); re-read them once an hour.
const INSTANCE_TTL_MS = 60 * 60 * 1000;

/** One item of a page: the id the endpoint pages by, and the status it carries. */
interface PageItem {
  readonly pageId: string;
  readonly status: unknown;
}

interface Page {
  readonly items: readonly PageItem[];
  /** Items the server returned, usable or not: a short page means the end. */
  readonly count: number;
  readonly rejected: readonly RejectedItem[];
  readonly rateLimit: RateLimitState | null;
}

interface Collector {
  readonly posts: Map<string, { post: Post; order: string }>;
  readonly rejected: RejectedItem[];
  read: number;
  pages: number;
  rateLimit: RateLimitState | null;
}

const arrayOf = z.array(z.unknown());
const createdStatusSchema = z.object({
  id: z.string().min(1),
  uri: z.string().min(1),
  url: z.string().nullish(),
});

const maxId = (ids: readonly string[]): string | undefined =>
  ids.reduce<string | undefined>(
    (best, id) => (best === undefined || compareIds(id, best) > 0 ? id : best),
    undefined,
  );
const minId = (ids: readonly string[]): string | undefined =>
  ids.reduce<string | undefined>(
    (best, id) => (best === undefined || compareIds(id, best) < 0 ? id : best),
    undefined,
  );

const idOf = (value: unknown): string | null => {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : null;
};

/** Statuses keyed by their own id (timelines, search). */
function statusItems(data: readonly unknown[]): { items: PageItem[]; rejected: RejectedItem[] } {
  const items: PageItem[] = [];
  const rejected: RejectedItem[] = [];
  for (const status of data) {
    const id = idOf(status);
    if (id === null) rejected.push({ id: null, reason: 'status: id: missing' });
    else items.push({ pageId: id, status });
  }
  return { items, rejected };
}

/** A Connector for one Mastodon account, through masto against the instance (or the stand-in) at `url`. */
export function createMastodonConnector(options: MastodonConnectorOptions): Connector {
  const client: mastodon.rest.Client = createRestAPIClient({
    url: options.url,
    accessToken: options.accessToken,
    timeout: options.timeoutMs ?? 30_000,
  });
  const secrets = [options.accessToken];
  const lateWindowMs = Math.max(0, options.lateWindowMs ?? DEFAULT_LATE_WINDOW_MS);
  watchFailedAnswers();
  const fail = (operation: MastodonOperation, manualUrl?: string) => (error: unknown) => {
    throw toConnectorError(error, {
      operation,
      secrets,
      instance: options.url,
      ...(manualUrl === undefined ? {} : { manualUrl }),
    });
  };
  /** A body that is not what Mastodon documents is treated like a garbled response: try again later. */
  const unreadable = (what: string, error: z.ZodError) =>
    new TransientError('mastodon', `Mastodon sent an unexpected ${what}: ${describeIssues(error)}`);

  let instance: { value: Promise<MastodonInstance>; at: number } | undefined;
  const getInstance = (): Promise<MastodonInstance> => {
    if (instance === undefined || Date.now() - instance.at > INSTANCE_TTL_MS) {
      const value = client.v2.instance
        .fetch()
        .catch(fail('instance'))
        .then((data: unknown) => {
          const parsed = mastodonInstanceSchema.safeParse(data);
          if (!parsed.success) throw unreadable('instance', parsed.error);
          return parsed.data;
        });
      const entry = { value, at: Date.now() };
      instance = entry;
      // A failure is not remembered: the next call asks again.
      value.catch(() => {
        if (instance === entry) instance = undefined;
      });
    }
    return instance.value;
  };

  const verifyCredentials = async (): Promise<AccountIdentity> => {
    const data: unknown = await client.v1.accounts.verifyCredentials().catch(fail('verify'));
    const parsed = mastodonAccountSchema.safeParse(data);
    if (!parsed.success) throw unreadable('account', parsed.error);
    return {
      platform: 'mastodon',
      id: parsed.data.id,
      handle: parsed.data.acct,
      displayName: parsed.data.displayName ?? '',
    };
  };

  // --- pages -----------------------------------------------------------------------------------

  type PageQuery = { readonly limit: number; readonly minId?: string; readonly offset?: number };

  const tagPage = async (tag: string, query: PageQuery): Promise<Page> => {
    // $select puts its argument into the path as is; a tag is letters and digits but may be non-ASCII.
    const name = encodeURIComponent(tag.replace(/^[#＃]/u, ''));
    const response = await client.v1.timelines.tag
      .$select(name)
      .list.$raw({ limit: query.limit, ...(query.minId === undefined ? {} : { minId: query.minId }) })
      .then((r) => r, fail('poll'));
    const data = arrayOf.safeParse(response.data);
    if (!data.success) throw unreadable('timeline', data.error);
    return { ...statusItems(data.data), count: data.data.length, rateLimit: readRateLimit(response.headers) };
  };

  const mentionsPage = async (query: PageQuery): Promise<Page> => {
    const response = await client.v1.notifications.list
      .$raw({
        types: ['mention'],
        limit: query.limit,
        ...(query.minId === undefined ? {} : { minId: query.minId }),
      })
      .then((r) => r, fail('poll'));
    const data = arrayOf.safeParse(response.data);
    if (!data.success) throw unreadable('notification list', data.error);
    const items: PageItem[] = [];
    const rejected: RejectedItem[] = [];
    for (const raw of data.data) {
      const notification = mastodonNotificationSchema.safeParse(raw);
      if (!notification.success) {
        rejected.push({ id: idOf(raw), reason: `notification: ${describeIssues(notification.error)}` });
      } else if (notification.data.type !== 'mention' || notification.data.status == null) {
        // Counted as read (the cursor passes it) but there is no post in it.
        rejected.push({
          id: notification.data.id,
          reason: `notification: ${notification.data.type} without a status`,
        });
        items.push({ pageId: notification.data.id, status: undefined });
      } else {
        items.push({ pageId: notification.data.id, status: notification.data.status });
      }
    }
    return { items, rejected, count: data.data.length, rateLimit: readRateLimit(response.headers) };
  };

  // Mastodon 4.3.0–4.3.1 refuse min_id on search with 422 "Invalid date" (mastodon#32731); once seen,
  // this connector searches without it (pollSearch filters by id itself).
  let searchRefusesMinId = false;
  const searchPage = async (q: string, query: PageQuery): Promise<Page> => {
    // $raw answers a thenable paginator: awaited here to get a Promise.
    const ask = async (minId: string | undefined) =>
      await client.v2.search.list.$raw({
        q,
        type: 'statuses',
        resolve: false,
        limit: query.limit,
        ...(minId === undefined ? {} : { minId }),
        ...(query.offset === undefined || query.offset === 0 ? {} : { offset: query.offset }),
      });
    const minId = searchRefusesMinId ? undefined : query.minId;
    const response = await ask(minId)
      .catch((error: unknown) => {
        if (minId !== undefined && isInvalidDate(error)) {
          searchRefusesMinId = true;
          return ask(undefined);
        }
        throw error;
      })
      .then((r) => r, fail('poll'));
    const data = mastodonSearchSchema.safeParse(response.data);
    if (!data.success) throw unreadable('search result', data.error);
    return {
      ...statusItems(data.data.statuses),
      count: data.data.statuses.length,
      rateLimit: readRateLimit(response.headers),
    };
  };

  // --- polling ---------------------------------------------------------------------------------

  const take = (collector: Collector, page: Page, items: readonly PageItem[]) => {
    collector.pages++;
    collector.read += page.count;
    collector.rateLimit = page.rateLimit ?? collector.rateLimit;
    collector.rejected.push(...page.rejected);
    for (const item of items) {
      if (item.status === undefined) continue;
      const result = normalizeStatus(item.status);
      if (!result.ok) collector.rejected.push(result.rejected);
      else if (!collector.posts.has(result.post.id))
        collector.posts.set(result.post.id, { post: result.post, order: item.pageId });
    }
  };

  const result = (collector: Collector, cursor: MastodonCursor | null, caughtUp: boolean): PollResult => ({
    posts: [...collector.posts.values()]
      .sort((a, b) => compareIds(a.order, b.order))
      .map((entry) => entry.post),
    cursor: cursor === null ? null : encodeCursor(cursor),
    caughtUp,
    pages: collector.pages,
    postsRead: collector.read,
    rateLimit: collector.rateLimit,
    rejected: collector.rejected,
  });

  /**
   * Timelines and notifications page forward: `min_id` returns the items just after the cursor, so
   * a burst is read oldest to newest and the cursor moves to the newest item read after each page.
   *
   * With `lateWindowMs` (hashtag timelines), each poll starts that far below the cursor instead:
   * a remote status's id is its creation time, so one that federates late lands below the cursor.
   * Ids already handed on in that window are in the cursor (`late.seen`) and are skipped.
   */
  const pollForward = async (
    fetchPage: (query: PageQuery) => Promise<Page>,
    cursor: string | null,
    budget: number,
    limit: number,
    signal: AbortSignal | undefined,
    lateWindowMs = 0,
  ): Promise<PollResult> => {
    const collector: Collector = { posts: new Map(), rejected: [], read: 0, pages: 0, rateLimit: null };
    if (cursor === null) {
      // First poll: start from now. Only the newest page, never the history behind it.
      const page = await fetchPage({ limit });
      take(collector, page, page.items);
      const pageIds = page.items.map((i) => i.pageId);
      const newest = maxId(pageIds);
      // Nothing there at all: read everything that comes, from the start. Left null, the next poll
      // would be a first poll again and take one page, losing the oldest posts of a bigger burst.
      if (newest === undefined) return result(collector, { after: NOTHING_YET }, true);
      // The window below starts at this page's oldest item: older history is not "late".
      const oldest = minId(pageIds) ?? newest;
      return result(collector, lateCursor(newest, oldest, pageIds, lateWindowMs, undefined), true);
    }
    const state = decodeCursor(cursor);
    let after = state.after;
    // A cursor from before the window existed starts its window at the cursor.
    const floor = lateWindowMs > 0 ? (state.late?.floor ?? after) : after;
    const seen = new Set(lateWindowMs > 0 ? (state.late?.seen ?? []) : []);
    const handed: string[] = [];
    let position = lateWindowMs > 0 ? (state.late?.resume ?? floor) : after;
    let caughtUp = false;
    while (collector.pages < budget) {
      signal?.throwIfAborted();
      const page = await fetchPage({ limit, minId: position });
      const above = page.items.filter((i) => compareIds(i.pageId, position) > 0);
      const fresh = above.filter((i) => compareIds(i.pageId, after) > 0 || !seen.has(i.pageId));
      take(collector, page, fresh);
      handed.push(...fresh.map((i) => i.pageId));
      const newest = maxId(above.map((i) => i.pageId));
      // A short page is the end; so is a full one that does not move (a server ignoring min_id).
      if (page.count < limit || newest === undefined) {
        if (newest !== undefined) position = newest;
        caughtUp = true;
        break;
      }
      position = newest;
    }
    if (compareIds(position, after) > 0) after = position;
    if (lateWindowMs <= 0) return result(collector, { after }, caughtUp);
    // Out of budget: the next poll goes on from `position`; once caught up, it re-reads from the floor.
    const resume = caughtUp ? undefined : position;
    return result(collector, lateCursor(after, floor, [...seen, ...handed], lateWindowMs, resume), caughtUp);
  };

  /**
   * The cursor after a poll with a late window: `floor` is the window's start, never below the
   * previous floor (`lowest`: the first poll's oldest post, so history is not "late"); `seen` the
   * ids handed on above it, at most MAX_LATE_SEEN (the floor rises past the oldest beyond that).
   */
  const lateCursor = (
    after: string,
    lowest: string,
    ids: readonly string[],
    lateWindowMs: number,
    resume: string | undefined,
  ): MastodonCursor => {
    if (lateWindowMs <= 0) return { after };
    const windowStart = idBefore(after, lateWindowMs);
    if (windowStart === null) return { after };
    let floor = maxId([lowest, windowStart]) ?? windowStart;
    let seen = [...new Set(ids)]
      .filter((id) => compareIds(id, floor) > 0 && compareIds(id, after) <= 0)
      .sort(compareIds);
    if (seen.length > MAX_LATE_SEEN) {
      floor = seen[seen.length - MAX_LATE_SEEN - 1] as string;
      seen = seen.slice(-MAX_LATE_SEEN);
    }
    const keepResume = resume !== undefined && compareIds(resume, floor) > 0;
    return { after, late: keepResume ? { floor, seen, resume } : { floor, seen } };
  };

  /**
   * Search cannot page forward: Mastodon returns the newest matches first and turns `min_id` into a
   * lower bound. So a poll asks for matches above the cursor and, when a page comes back full, walks
   * down with `offset` (across polls if the budget runs out, see MastodonCursor.walk) until it meets
   * the cursor; only then does the cursor move up to the newest match handed on.
   */
  const pollSearch = async (
    q: string,
    cursor: string | null,
    budget: number,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<PollResult> => {
    const collector: Collector = { posts: new Map(), rejected: [], read: 0, pages: 0, rateLimit: null };
    if (cursor === null) {
      const page = await searchPage(q, { limit });
      take(collector, page, page.items);
      const newest = maxId(page.items.map((i) => i.pageId));
      return result(collector, { after: newest ?? NOTHING_YET }, true);
    }
    let state = decodeCursor(cursor);
    while (collector.pages < budget) {
      signal?.throwIfAborted();
      const { after, walk } = state;
      const page = await searchPage(q, { limit, minId: after, offset: walk?.offset ?? 0 });
      // Real servers bound min_id by whole seconds, so matches at or below the cursor come back too.
      const fresh = page.items.filter(
        (i) =>
          compareIds(i.pageId, after) > 0 && (walk === undefined || compareIds(i.pageId, walk.bottom) < 0),
      );
      take(collector, page, fresh);
      const freshIds = fresh.map((i) => i.pageId);
      const reachedCursor = page.count < limit || page.items.some((i) => compareIds(i.pageId, after) <= 0);
      if (walk === undefined) {
        const top = maxId(freshIds);
        const bottom = minId(freshIds);
        if (top === undefined || bottom === undefined || reachedCursor) {
          state = { after: top ?? after };
          return result(collector, state, true);
        }
        state = { after, walk: { top, bottom, offset: page.count } };
      } else {
        if (reachedCursor) {
          state = { after: walk.top };
          return result(collector, state, true);
        }
        const bottom = minId([walk.bottom, ...freshIds]) ?? walk.bottom;
        state = { after, walk: { top: walk.top, bottom, offset: walk.offset + page.count } };
      }
    }
    return result(collector, state, false);
  };

  const poll = async (
    source: PollSource,
    cursor: string | null,
    pollOptions: PollOptions = {},
  ): Promise<PollResult> => {
    const budget = Math.max(1, Math.floor(pollOptions.pageBudget ?? 5));
    const limit = Math.min(
      MASTODON_MAX_PAGE_SIZE,
      Math.max(1, Math.floor(pollOptions.pageSize ?? MASTODON_MAX_PAGE_SIZE)),
    );
    const signal = pollOptions.signal;
    signal?.throwIfAborted();
    if (source.platform !== 'mastodon') {
      throw new PermanentError('mastodon', `a ${source.platform} source cannot be polled on Mastodon`);
    }
    switch (source.kind) {
      case 'hashtag':
        return pollForward(
          (query) => tagPage(source.tag, query),
          cursor,
          budget,
          limit,
          signal,
          lateWindowMs,
        );
      case 'mentions':
        return pollForward(mentionsPage, cursor, budget, limit, signal);
      case 'search':
        return pollSearch(source.query, cursor, budget, limit, signal);
    }
  };

  // --- replying --------------------------------------------------------------------------------

  const reply = async (
    target: ReplyTarget,
    text: string,
    replyOptions: ReplyOptions,
  ): Promise<ReplyResult> => {
    let status: string;
    try {
      status = replyAsPosted(text, 'mastodon', target.authorHandle);
    } catch (error) {
      if (error instanceof UnmentionableHandleError) throw new PermanentError('mastodon', error.message);
      throw error;
    }
    const response = await client.v1.statuses.create
      .$raw(
        {
          status,
          inReplyToId: target.postId,
          visibility: replyOptions.visibility ?? options.visibility ?? 'unlisted',
        },
        // Mastodon keeps the key an hour: a retry within it returns the first status instead of a second.
        { requestInit: { headers: { 'Idempotency-Key': replyOptions.idempotencyKey } } },
      )
      // Mastodon has no API-only refusals: a refused reply is refused on the web too. The post's own
      // page is the most useful place to send a person (to see why, or answer another way).
      .catch(fail('reply', target.url));
    const created = createdStatusSchema.safeParse(response.data);
    if (!created.success) throw unreadable('status', created.error);
    return { id: created.data.id, url: created.data.url ?? created.data.uri };
  };

  const post = async (text: string, postOptions: ReplyOptions): Promise<ReplyResult> => {
    const response = await client.v1.statuses.create
      .$raw(
        { status: text, visibility: postOptions.visibility ?? 'public' },
        // Mastodon keeps the key an hour: a retry within it returns the first status instead of a second.
        { requestInit: { headers: { 'Idempotency-Key': postOptions.idempotencyKey } } },
      )
      .catch(fail('post'));
    const created = createdStatusSchema.safeParse(response.data);
    if (!created.success) throw unreadable('status', created.error);
    return { id: created.data.id, url: created.data.url ?? created.data.uri };
  };

  // --- streaming -------------------------------------------------------------------------------

  const streamingUrl = async (): Promise<string> => {
    if (options.streamingUrl !== undefined) return options.streamingUrl;
    try {
      return (await getInstance()).configuration.urls?.streaming ?? options.url;
    } catch (error) {
      // Without the instance document the API host usually proxies /api/v1/streaming itself.
      if (error instanceof AuthFailedError) throw error;
      return options.url;
    }
  };

  const stream = (source: StreamSource, streamOptions: StreamOptions): AsyncIterable<StreamEvent> => {
    if (source.platform !== 'mastodon')
      throw new PermanentError('mastodon', `a ${source.platform} stream cannot be read on Mastodon`);
    return streamEvents(source, streamOptions, {
      streamingUrl,
      accessToken: options.accessToken,
      checkCredentials: async () => {
        await verifyCredentials();
      },
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
    });
  };

  const describeInstance = async (): Promise<InstanceInfo> => {
    const current = await getInstance();
    const version = current.version ?? '';
    return {
      platform: 'mastodon',
      domain: current.domain,
      version,
      maxCharacters: current.configuration.statuses?.maxCharacters ?? MASTODON_DEFAULT_MAX_CHARACTERS,
      search: {
        fullText: 'unknown',
        idBoundsRefused: searchRefusesMinId || SEARCH_ID_BOUNDS_BUG.test(version),
      },
      hashtagTimelines: current.configuration.timelinesAccess?.hashtagFeeds?.remote ?? null,
    };
  };

  /**
   * Answers to and favourites / boosts of the account's posts, from its notifications (mention,
   * favourite, reblog): one request a call covers every followed conversation. Paged forward with
   * `min_id`, so a burst waits for the next call rather than being skipped.
   */
  const activity = async (
    cursor: string | null,
    options: { pageBudget?: number; signal?: AbortSignal } = {},
  ): Promise<ActivityResult> => {
    const limit = 40;
    const budget = cursor === null ? 1 : Math.max(1, Math.floor(options.pageBudget ?? 3));
    const items: Array<{ order: string; item: ActivityItem }> = [];
    const rejected: RejectedItem[] = [];
    let position = cursor ?? undefined;
    let requests = 0;
    let postsRead = 0;
    let rateLimit: RateLimitState | null = null;
    let caughtUp = false;
    while (requests < budget) {
      options.signal?.throwIfAborted();
      const response = await client.v1.notifications.list
        .$raw({
          types: ['mention', 'favourite', 'reblog'],
          limit: cursor === null ? 5 : limit,
          ...(position === undefined ? {} : { minId: position }),
        })
        .then((r) => r, fail('poll'));
      requests++;
      rateLimit = readRateLimit(response.headers) ?? rateLimit;
      const data = arrayOf.safeParse(response.data);
      if (!data.success) throw unreadable('notification list', data.error);
      postsRead += data.data.length;
      let newest = position;
      for (const raw of data.data) {
        const parsed = mastodonNotificationSchema.safeParse(raw);
        if (!parsed.success) {
          rejected.push({ id: idOf(raw), reason: `notification: ${describeIssues(parsed.error)}` });
          continue;
        }
        const n = parsed.data;
        if (newest === undefined || compareIds(n.id, newest) > 0) newest = n.id;
        if (position !== undefined && compareIds(n.id, position) <= 0) continue;
        if (n.type === 'mention' && n.status != null) {
          const normalized = normalizeStatus(n.status);
          if (!normalized.ok) rejected.push(normalized.rejected);
          else if (normalized.post.inReplyTo !== null)
            items.push({ order: n.id, item: { kind: 'answer', post: normalized.post } });
        } else if ((n.type === 'favourite' || n.type === 'reblog') && n.account != null) {
          const statusId = idOf(n.status);
          if (statusId === null) continue;
          items.push({
            order: n.id,
            item: {
              kind: n.type === 'favourite' ? 'like' : 'repost',
              postId: statusId,
              author: { id: n.account.id, handle: n.account.acct },
              at: new Date(n.createdAt ?? Date.now()),
            },
          });
        }
      }
      const moved = newest !== position;
      position = newest;
      // A short page is the end; so is one that does not move (a server ignoring min_id).
      if (cursor === null || data.data.length < limit || !moved) {
        caughtUp = true;
        break;
      }
    }
    items.sort((a, b) => compareIds(a.order, b.order));
    return {
      items: items.map((entry) => entry.item),
      // Nothing seen yet: '0', so that the next call pages forward from the first notification to come.
      cursor: position ?? '0',
      caughtUp,
      requests,
      postsRead,
      rateLimit,
      rejected,
    };
  };

  return {
    platform: 'mastodon',
    poll,
    stream,
    reply,
    post,
    activity,
    verifyCredentials,
    describeInstance,
    async maxReplyLength() {
      const current = await getInstance();
      // Servers that implement the API without this field get Mastodon's stock limit.
      return current.configuration.statuses?.maxCharacters ?? MASTODON_DEFAULT_MAX_CHARACTERS;
    },
  };
}
