import { AtpAgent, RichText, XRPCError } from '@atproto/api';
import { IdResolver, MemoryCache } from '@atproto/identity';
import { BLUESKY_MAX_GRAPHEMES, countGraphemes, type Post } from '@kikimimi/rules';
import {
  AuthFailedError,
  BlockedError,
  type ConnectorError,
  PermanentError,
  PostUnavailableError,
  ReplyNotAllowedError,
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
  ReplyOptions,
  ReplyResult,
  ReplyTarget,
  StreamEvent,
  StreamOptions,
  StreamSource,
} from '../types.ts';
import { ACTIVITY_SEEN_MAX, decodeActivityCursor, encodeActivityCursor } from './bluesky-activity-cursor.ts';
import { type BlueskyCursor, decodeCursor, encodeCursor, sortTime } from './bluesky-cursor.ts';
import { type BlueskyOperation, readRateLimit, toConnectorError } from './bluesky-errors.ts';
import { labelsOf, normalizePost, parseAtUri, webUrlOf } from './bluesky-normalize.ts';
import { rkeyFor } from './bluesky-rkey.ts';
import { notificationSchema, postRecordSchema, postViewSchema } from './bluesky-schemas.ts';
import { firehoseEvents, POST_COLLECTION } from './bluesky-stream.ts';

/** The main Bluesky service (PDS entryway) an account signs in to unless it has its own PDS. */
export const BLUESKY_DEFAULT_SERVICE = 'https://bsky.social';
/** Bluesky's relay: the whole network's firehose. */
export const BLUESKY_DEFAULT_RELAY = 'wss://bsky.network';
export const BLUESKY_DEFAULT_PLC = 'https://plc.directory';
/** Largest searchPosts page. */
export const BLUESKY_MAX_PAGE_SIZE = 100;

export interface BlueskyConnectorOptions {
  /** The account's PDS (default https://bsky.social). */
  readonly service?: string;
  /** Handle (alice.bsky.social), DID or e-mail. */
  readonly identifier: string;
  /** An app password (Settings → Privacy and security → App passwords), never the account password. */
  readonly appPassword: string;
  /** The firehose to stream from (default wss://bsky.network); an http(s):// address means ws(s)://. */
  readonly relayUrl?: string;
  /** The PLC directory that resolves did:plc identities (default https://plc.directory). */
  readonly plcUrl?: string;
  /** Check firehose commits against the repositories' signing keys (default true). */
  readonly verifyStream?: boolean;
  /**
   * The fetch that resolves identities (DID documents, for handles and stream signature checks).
   * Default: @atproto/identity's SSRF-protected fetch, which refuses private addresses and plain
   * http; only a local test network needs another (e.g. `globalThis.fetch`).
   */
  readonly identityFetch?: typeof globalThis.fetch;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** How far below the newest post a search re-reads for posts the AppView indexed late (default 5 minutes). */
  readonly lateWindowMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_LATE_WINDOW_MS = 5 * 60 * 1000;
const PROFILE_TTL_MS = 60 * 60 * 1000;
const PROFILE_CACHE_MAX = 50_000;
const HIDDEN = new Set(['!hide', '!takedown']);
/** The notifications the conversations read: answers (replies, mentions) and reactions. */
const ACTIVITY_REASONS = ['reply', 'mention', 'like', 'repost'] as const;
const ACTIVITY_PAGE_SIZE = 50;

interface Profile {
  readonly handle: string;
  readonly displayName: string;
  readonly at: number;
}

/**
 * The facets of a text to post, without mentions of handles that did not resolve: `detectFacets`
 * leaves their DID empty, which the PDS refuses ("must be a valid did"); the Bluesky app drops them
 * too, and the text still shows the @handle.
 */
function facetsOf(rich: RichText): { facets?: NonNullable<RichText['facets']> } {
  const facets = (rich.facets ?? [])
    .map((facet) => ({
      ...facet,
      features: facet.features.filter(
        (f) => !(f.$type === 'app.bsky.richtext.facet#mention' && (f as { did?: string }).did === ''),
      ),
    }))
    .filter((facet) => facet.features.length > 0);
  return facets.length > 0 ? { facets } : {};
}

export function createBlueskyConnector(options: BlueskyConnectorOptions): Connector {
  const service = (options.service ?? BLUESKY_DEFAULT_SERVICE).replace(/\/+$/u, '');
  let serviceUrl: URL;
  try {
    serviceUrl = new URL(service);
  } catch {
    throw new PermanentError('bluesky', `not a Bluesky service URL: ${JSON.stringify(service.slice(0, 80))}`);
  }
  const server = serviceUrl.host;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lateWindowMs = options.lateWindowMs ?? DEFAULT_LATE_WINDOW_MS;
  const agent = new AtpAgent({ service });
  // DID documents cached (stale after an hour, dropped after a day): every firehose commit needs its
  // repository's signing key.
  const idResolver = new IdResolver({
    plcUrl: options.plcUrl ?? BLUESKY_DEFAULT_PLC,
    timeout: timeoutMs,
    didCache: new MemoryCache(60 * 60 * 1000, 24 * 60 * 60 * 1000),
    ...(options.identityFetch ? { fetch: options.identityFetch } : {}),
  });
  const profiles = new Map<string, Profile>();
  let login: Promise<void> | null = null;

  const callOptions = (signal?: AbortSignal) => ({
    signal: signal
      ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs),
  });

  const signIn = (): Promise<void> => {
    login ??= agent
      .login({ identifier: options.identifier, password: options.appPassword })
      .then(() => undefined)
      .catch((error: unknown) => {
        login = null;
        throw toConnectorError(error, 'login', server);
      });
    return login;
  };

  /** Runs `call` signed in; a session the server no longer accepts is renewed once. */
  async function authed<T>(operation: BlueskyOperation, call: () => Promise<T>): Promise<T> {
    await signIn();
    try {
      return await call();
    } catch (error) {
      if (error instanceof XRPCError && (error.error === 'ExpiredToken' || error.error === 'InvalidToken')) {
        login = null;
        await signIn();
        try {
          return await call();
        } catch (again) {
          throw toConnectorError(again, operation, server);
        }
      }
      throw toConnectorError(error, operation, server);
    }
  }

  const did = (): string => {
    const session = agent.session;
    if (!session) throw new AuthFailedError('bluesky', `not signed in to ${server}`);
    return session.did;
  };

  /** Handles and display names of `dids`, from the AppView, cached for an hour. */
  async function profilesOf(dids: readonly string[]): Promise<Map<string, Profile>> {
    const now = Date.now();
    const missing = [...new Set(dids)].filter((d) => {
      const p = profiles.get(d);
      return p === undefined || now - p.at > PROFILE_TTL_MS;
    });
    for (let i = 0; i < missing.length; i += 25) {
      const batch = missing.slice(i, i + 25);
      const res = await authed('profiles', () =>
        agent.app.bsky.actor.getProfiles({ actors: batch }, callOptions()),
      );
      for (const p of res.data.profiles) {
        if (profiles.size >= PROFILE_CACHE_MAX) profiles.delete(profiles.keys().next().value as string);
        profiles.set(p.did, { handle: p.handle, displayName: p.displayName ?? '', at: now });
      }
      // Not on the AppView (yet): the handle the DID document claims.
      for (const d of batch.filter((x) => !res.data.profiles.some((p) => p.did === x))) {
        const data = await idResolver.did.resolveAtprotoData(d).catch(() => null);
        profiles.set(d, { handle: data?.handle ?? d, displayName: '', at: now });
      }
    }
    return new Map(dids.map((d) => [d, profiles.get(d) as Profile]));
  }

  async function poll(
    source: PollSource,
    cursor: string | null,
    pollOptions: PollOptions = {},
  ): Promise<PollResult> {
    if (source.platform !== 'bluesky' || source.kind !== 'search')
      throw new PermanentError(
        'bluesky',
        `the Bluesky connector polls Bluesky searches, not ${source.platform} ${source.kind}`,
      );
    const state = decodeCursor(cursor);
    const budget = pollOptions.pageBudget ?? 5;
    const limit = Math.min(Math.max(pollOptions.pageSize ?? 50, 1), BLUESKY_MAX_PAGE_SIZE);
    const first = state.since === null && state.newest === null && state.gap === null;
    const lower =
      state.since === null ? undefined : new Date(Date.parse(state.since) - lateWindowMs).toISOString();
    const until = state.gap === null ? undefined : state.gap.until;
    const seen = new Map(
      state.seen.map((entry) => [entry.slice(entry.indexOf(' ') + 1), entry.slice(0, entry.indexOf(' '))]),
    );

    const found = new Map<string, { post: Post; sort: string }>();
    const rejected: RejectedItem[] = [];
    let pages = 0;
    let postsRead = 0;
    let rateLimit: RateLimitState | null = null;
    let pageCursor: string | undefined = state.gap?.page ?? undefined;
    let reachedEnd = false;
    let oldest: string | null = null;
    let belowLower = false;
    while (pages < budget) {
      const res = await authed('search', () =>
        agent.app.bsky.feed.searchPosts(
          {
            q: source.query,
            sort: 'latest',
            limit,
            ...(pageCursor === undefined ? {} : { cursor: pageCursor }),
            ...(lower === undefined ? {} : { since: lower }),
            ...(source.lang === undefined ? {} : { lang: source.lang }),
          },
          callOptions(pollOptions.signal),
        ),
      );
      pages += 1;
      rateLimit = readRateLimit(res.headers) ?? rateLimit;
      for (const raw of res.data.posts) {
        postsRead += 1;
        const view = postViewSchema.safeParse(raw);
        if (!view.success) {
          rejected.push({ id: (raw as { uri?: string }).uri ?? null, reason: 'not a Bluesky post view' });
          continue;
        }
        const record = postRecordSchema.safeParse(view.data.record);
        const sort = sortTime(
          record.success ? record.data.createdAt : view.data.indexedAt,
          view.data.indexedAt,
        );
        // `since` again, here: a server may ignore it (the reference AppView's own search does),
        // and pages must stop at the cursor either way. Inside a gap, what is newer than the gap was
        // handed on already or comes with the next open poll, in order.
        if (lower !== undefined && sort < lower) {
          belowLower = true;
          continue;
        }
        if (until !== undefined && sort >= until) continue;
        if (oldest === null || sort < oldest) oldest = sort;
        if (seen.has(view.data.uri) || found.has(view.data.uri)) continue;
        if (record.success && labelsOf(record.data, view.data.labels).some((l) => HIDDEN.has(l))) {
          rejected.push({ id: view.data.uri, reason: 'hidden by a moderation label' });
          continue;
        }
        const post = normalizePost({
          uri: view.data.uri,
          record: view.data.record,
          author: view.data.author,
          indexedAt: view.data.indexedAt,
        });
        if ('reason' in post) rejected.push(post);
        else found.set(post.id, { post, sort });
      }
      if (!res.data.cursor || res.data.posts.length === 0 || first || belowLower) {
        reachedEnd = true;
        break;
      }
      pageCursor = res.data.cursor;
    }

    const sorted = [...found.values()].sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
    let newest = state.newest;
    for (const { sort } of sorted) if (newest === null || sort > newest) newest = sort;
    for (const { post, sort } of sorted) seen.set(post.id, sort);
    let next: BlueskyCursor;
    if (reachedEnd) {
      // A first poll that found nothing listens from now on.
      const since = newest ?? state.since ?? (first ? new Date().toISOString() : null);
      const floor = since === null ? null : new Date(Date.parse(since) - lateWindowMs).toISOString();
      next = {
        since,
        newest,
        gap: null,
        seen: [...seen].filter(([, s]) => floor === null || s >= floor).map(([uri, s]) => `${s} ${uri}`),
      };
    } else {
      // Budget spent before `since`: what lies below the oldest post read is read first next time.
      // The gap goes on with the search's own page cursor (same query, same `since`): a keyset cursor
      // is stable, and an offset cursor only shifts towards newer posts when posts arrive, so
      // continuing re-reads (seen, skipped) but never skips.
      const gapUntil =
        state.gap?.until ?? (oldest === null ? null : new Date(Date.parse(oldest) + 1).toISOString());
      next = {
        since: state.since,
        newest,
        gap: gapUntil === null ? null : { until: gapUntil, page: pageCursor ?? null },
        // Below `lower` nothing is read again; the rest stays to keep the gap's re-reads out.
        seen: [...seen].filter(([, s]) => lower === undefined || s >= lower).map(([uri, s]) => `${s} ${uri}`),
      };
    }
    return {
      posts: sorted.map((s) => s.post),
      cursor: encodeCursor(next),
      caughtUp: reachedEnd,
      pages,
      postsRead,
      rateLimit,
      rejected,
    };
  }

  async function existingReply(repo: string, rkey: string): Promise<{ uri: string } | null> {
    try {
      const res = await agent.com.atproto.repo.getRecord(
        { repo, collection: POST_COLLECTION, rkey },
        callOptions(),
      );
      return { uri: res.data.uri };
    } catch (error) {
      if (error instanceof XRPCError && (error.error === 'RecordNotFound' || error.status === 404))
        return null;
      throw toConnectorError(error, 'reply', server);
    }
  }

  /**
   * Creates a post of the account's own under a record key derived from the idempotency key: a retry
   * (or two workers at once) finds the first post instead of making a second. `fields` makes the
   * checks only this kind of post needs and returns what it adds to the record (a reply's parent and
   * root, its language); it runs after the text's checks, before anything is written.
   */
  async function createOwnPost(
    kind: 'reply' | 'post',
    text: string,
    idempotencyKey: string,
    fields: () => Promise<Record<string, unknown>>,
  ): Promise<ReplyResult> {
    const rkey = rkeyFor(idempotencyKey);
    await signIn();
    const repo = did();
    const handle = agent.session?.handle ?? repo;
    const result = (uri: string): ReplyResult => ({ id: uri, url: webUrlOf(uri, handle) });
    const before = await authed('reply', () => existingReply(repo, rkey));
    if (before !== null) return result(before.uri);

    if (text.trim() === '') throw new PermanentError('bluesky', `a Bluesky ${kind} cannot be empty`);
    const length = countGraphemes(text);
    if (length > BLUESKY_MAX_GRAPHEMES)
      throw new PermanentError(
        'bluesky',
        `the ${kind} is ${length} graphemes; Bluesky allows ${BLUESKY_MAX_GRAPHEMES}`,
      );
    const extra = await fields();

    const rich = new RichText({ text });
    try {
      await rich.detectFacets(agent);
    } catch (error) {
      throw toConnectorError(error, 'reply', server);
    }
    const record = {
      $type: POST_COLLECTION,
      text: rich.text,
      ...facetsOf(rich),
      ...extra,
      createdAt: new Date().toISOString(),
    };
    try {
      const res = await agent.com.atproto.repo.createRecord(
        { repo, collection: POST_COLLECTION, rkey, record, validate: true },
        callOptions(),
      );
      return result(res.data.uri);
    } catch (error) {
      // The same key twice (a retry, or two workers at once): the server refuses the second create.
      // Whatever it answered, the record under our key is the post — never a second one.
      const after = await existingReply(repo, rkey).catch(() => null);
      if (after !== null) return result(after.uri);
      throw toConnectorError(error, 'reply', server) satisfies ConnectorError;
    }
  }

  function reply(target: ReplyTarget, text: string, replyOptions: ReplyOptions): Promise<ReplyResult> {
    return createOwnPost('reply', text, replyOptions.idempotencyKey, async () => {
      if (parseAtUri(target.postId) === null)
        throw new PermanentError(
          'bluesky',
          `not a Bluesky post id (an at:// URI): ${target.postId.slice(0, 80)}`,
        );
      const found = await authed('post lookup', () =>
        agent.app.bsky.feed.getPosts({ uris: [target.postId] }, callOptions()),
      );
      const parent = found.data.posts[0];
      if (parent === undefined)
        throw new PostUnavailableError(
          'bluesky',
          `the post ${target.url} is deleted or not visible to our account`,
        );
      const viewer = parent.author.viewer;
      if (viewer?.blocking || viewer?.blockedBy)
        throw new BlockedError('bluesky', `a block stands between our account and @${parent.author.handle}`);
      if (parent.viewer?.replyDisabled)
        throw new ReplyNotAllowedError(
          'bluesky',
          `@${parent.author.handle} limits who can reply to this post`,
          target.url,
        );
      const parentRecord = postRecordSchema.safeParse(parent.record);
      const parentRef = { uri: parent.uri, cid: parent.cid };
      const root = parentRecord.success && parentRecord.data.reply ? parentRecord.data.reply.root : parentRef;
      return {
        reply: { root: { uri: root.uri, cid: root.cid }, parent: parentRef },
        ...(parentRecord.success && parentRecord.data.langs
          ? { langs: parentRecord.data.langs.slice(0, 3) }
          : {}),
      };
    });
  }

  /**
   * A post of the account's own (a surge's announcement), under a record key derived from the
   * idempotency key: a retry finds the first post instead of making a second.
   */
  function post(text: string, postOptions: ReplyOptions): Promise<ReplyResult> {
    return createOwnPost('post', text, postOptions.idempotencyKey, async () => ({}));
  }

  async function verifyCredentials(): Promise<AccountIdentity> {
    await signIn();
    const me = did();
    const profile = await profilesOf([me]).catch(() => null);
    const known = profile?.get(me);
    return {
      platform: 'bluesky',
      id: me,
      handle: known?.handle ?? agent.session?.handle ?? me,
      displayName: known?.displayName ?? '',
    };
  }

  function stream(source: StreamSource, streamOptions: StreamOptions): AsyncIterable<StreamEvent> {
    if (source.platform !== 'bluesky')
      throw new PermanentError('bluesky', `a ${source.platform} stream cannot be read on Bluesky`);
    return firehoseEvents(
      {
        // A relay or PDS named by its https:// address (as accounts store it) is the same host over wss://.
        service: (options.relayUrl ?? BLUESKY_DEFAULT_RELAY).replace(/^http(s?):\/\//u, 'ws$1://'),
        idResolver,
        verify: options.verifyStream ?? true,
        toEvent: async (evt) => {
          if (evt.event === 'delete')
            return { kind: 'delete', platform: 'bluesky', postId: evt.uri.toString() };
          const uri = evt.uri.toString();
          // The whole network passes here: no AppView request per author. The handle comes from the
          // DID document (cached; verifying the commit has just read it), the display name from the
          // profile cache when the author is known already, else empty.
          const known = profiles.get(evt.did);
          const handle =
            known?.handle ??
            (await idResolver.did.resolveAtprotoData(evt.did).catch(() => null))?.handle ??
            evt.did;
          const post = normalizePost({
            uri,
            record: evt.record,
            author: { did: evt.did, handle, displayName: known?.displayName ?? '' },
            indexedAt: evt.time,
          });
          if ('reason' in post) return null;
          if (labelsOf(postRecordSchema.parse(evt.record)).some((l) => HIDDEN.has(l))) return null;
          return { kind: evt.event === 'create' ? 'post' : 'edit', post };
        },
      },
      streamOptions,
    );
  }

  /**
   * Answers to and likes / reposts of the account's posts, from its notifications
   * (`app.bsky.notification.listNotifications`, reasons reply, mention, like, repost): one request a
   * call covers every followed conversation. The list pages newest first and has no "since": a call
   * pages down to the cursor's time (minus the late window, for notifications indexed late) within
   * its page budget; a burst larger than the budget skips its oldest (caughtUp false), as X does.
   * The first call (no cursor) reads one page and returns a cursor even when it finds nothing.
   */
  async function activity(
    cursor: string | null,
    activityOptions: { readonly pageBudget?: number; readonly signal?: AbortSignal } = {},
  ): Promise<ActivityResult> {
    const state = cursor === null ? null : decodeActivityCursor(cursor);
    const budget = state === null ? 1 : Math.max(1, Math.floor(activityOptions.pageBudget ?? 3));
    const floor = state === null ? null : new Date(Date.parse(state.since) - lateWindowMs).toISOString();
    const seen = new Map<string, string>(
      (state?.seen ?? []).map((entry) => [
        entry.slice(entry.indexOf(' ') + 1),
        entry.slice(0, entry.indexOf(' ')),
      ]),
    );
    await signIn();
    const me = did();
    const found: Array<{ at: string; uri: string; item: ActivityItem }> = [];
    const rejected: RejectedItem[] = [];
    let requests = 0;
    let postsRead = 0;
    let rateLimit: RateLimitState | null = null;
    let caughtUp = false;
    let pageCursor: string | undefined;
    let newest = state?.since ?? null;
    while (requests < budget) {
      activityOptions.signal?.throwIfAborted();
      const res = await authed('notifications', () =>
        agent.app.bsky.notification.listNotifications(
          {
            reasons: [...ACTIVITY_REASONS],
            limit: ACTIVITY_PAGE_SIZE,
            ...(pageCursor === undefined ? {} : { cursor: pageCursor }),
          },
          callOptions(activityOptions.signal),
        ),
      );
      requests += 1;
      rateLimit = readRateLimit(res.headers) ?? rateLimit;
      let reachedFloor = false;
      for (const raw of res.data.notifications) {
        const parsed = notificationSchema.safeParse(raw);
        if (!parsed.success) {
          rejected.push({ id: (raw as { uri?: string }).uri ?? null, reason: 'not a Bluesky notification' });
          continue;
        }
        const n = parsed.data;
        const at = Number.isNaN(Date.parse(n.indexedAt)) ? null : new Date(n.indexedAt).toISOString();
        if (at === null) {
          rejected.push({
            id: n.uri,
            reason: `unreadable indexedAt ${JSON.stringify(n.indexedAt.slice(0, 40))}`,
          });
          continue;
        }
        if (floor !== null && at < floor) {
          reachedFloor = true;
          continue;
        }
        if (seen.has(n.uri)) continue;
        seen.set(n.uri, at);
        if (newest === null || at > newest) newest = at;
        if (n.reason === 'reply' || n.reason === 'mention') {
          postsRead += 1;
          const post = normalizePost({
            uri: n.uri,
            record: n.record,
            author: n.author,
            indexedAt: n.indexedAt,
          });
          if ('reason' in post) rejected.push(post);
          // A mention that answers nothing is not part of a conversation.
          else if (post.inReplyTo !== null) found.push({ at, uri: n.uri, item: { kind: 'answer', post } });
        } else if (n.reason === 'like' || n.reason === 'repost') {
          const subject =
            n.reasonSubject ?? (n.record as { subject?: { uri?: unknown } }).subject?.uri ?? null;
          // Only reactions on our own posts (a repost of a repost notifies with another reason).
          if (typeof subject !== 'string' || parseAtUri(subject)?.did !== me) continue;
          const createdAt = n.record.createdAt ?? '';
          found.push({
            at,
            uri: n.uri,
            item: {
              kind: n.reason,
              postId: subject,
              author: { id: n.author.did, handle: n.author.handle.toLowerCase() },
              at: new Date(Number.isNaN(Date.parse(createdAt)) ? at : createdAt),
            },
          });
        }
      }
      if (
        state === null ||
        reachedFloor ||
        !res.data.cursor ||
        res.data.notifications.length < ACTIVITY_PAGE_SIZE
      ) {
        caughtUp = true;
        break;
      }
      pageCursor = res.data.cursor;
    }
    // Nothing seen yet: listen from now.
    const since = newest ?? new Date().toISOString();
    const keepFrom = new Date(Date.parse(since) - lateWindowMs).toISOString();
    const keep = [...seen]
      .filter(([, at]) => at >= keepFrom)
      .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .slice(-ACTIVITY_SEEN_MAX)
      .map(([uri, at]) => `${at} ${uri}`);
    found.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
    return {
      items: found.map((f) => f.item),
      cursor: encodeActivityCursor({ since, seen: keep }),
      caughtUp,
      requests,
      postsRead,
      rateLimit,
      rejected,
    };
  }

  return {
    platform: 'bluesky',
    poll,
    stream,
    reply,
    activity,
    post,
    verifyCredentials,
    maxReplyLength: async () => BLUESKY_MAX_GRAPHEMES,
  };
}
