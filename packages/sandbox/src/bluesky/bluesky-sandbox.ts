import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lexicons, RichText } from '@atproto/api';
import { preparePost, QuerySyntaxError } from '@kikimimi/rules';
import { createFaultInjector, type FaultInjector } from '../faults.ts';
import { type SandboxRequest, type SandboxResponse, startHttpServer } from '../http.ts';
import { hashtagsIn, type SandboxPostInput, type SandboxReply } from '../world.ts';
import { blueskyHandleFor, cidFor, createTidClock, didFor } from './ids.ts';
import { type BlueskySearchQuery, parseSearchQuery, searchTime } from './search.ts';

/** How to set up a Bluesky stand-in; every field has a default. */
export interface BlueskySandboxOptions {
  /** Port to listen on (default: an ephemeral one). */
  readonly port?: number;
  /** The account kikimimi signs in as (default kikimimi-support.bsky.social, "kikimimi support"). */
  readonly account?: { readonly handle: string; readonly displayName?: string };
  /** Where names written without a domain get their handle (`hana` → `hana.bsky.social`; default bsky.social). */
  readonly handleDomain?: string;
  /** Requests allowed per window (default 3,000 per 300 s, what Bluesky's services allow an IP). */
  readonly rateLimit?: { readonly limit: number; readonly windowSeconds: number };
  /** Lifetime of an access token (default 7,200 s, as the PDS issues them). */
  readonly accessTokenTtlSeconds?: number;
  /** Start with every other author's posts closed to our replies (see `setReplyRestricted`; default false). */
  readonly replyRestricted?: boolean;
}

/** A facet as app.bsky.richtext.facet defines it (UTF-8 byte offsets). */
export interface BlueskyFacet {
  readonly index: { readonly byteStart: number; readonly byteEnd: number };
  readonly features: ReadonlyArray<Readonly<Record<string, unknown>> & { readonly $type: string }>;
}

/** A post to put on the stand-in: the neutral input, and facets when they must be exactly these. */
export type BlueskyPostInput = SandboxPostInput & {
  /** Default: mentions, links and tags detected in the text, as the Bluesky app does. */
  readonly facets?: readonly BlueskyFacet[];
};

/** The account the stand-in's app password belongs to. */
export interface BlueskySandboxAccount {
  readonly did: string;
  readonly handle: string;
  readonly displayName: string;
}

/** A running Bluesky stand-in: the XRPC API of a PDS with its AppView, on `url`. */
export interface BlueskySandbox {
  /** `http://127.0.0.1:PORT`: the service to sign in to (AtpAgent's `service`). */
  readonly url: string;
  readonly account: BlueskySandboxAccount;
  /** An app password of `account` (sign in with `account.handle` or `account.did`). */
  readonly appPassword: string;
  readonly faults: FaultInjector;
  /**
   * Someone posts (an `app.bsky.feed.post` record in their repository); returns its at:// URI. A name
   * without a domain becomes a handle under `handleDomain`; `inReplyTo` makes it a reply to that post;
   * `repostOf` makes it a repost record instead (`app.bsky.feed.repost`, which search never lists),
   * whose URI is returned. Mentions, links and tags in the text become facets.
   */
  addPost(input: BlueskyPostInput): string;
  /** Someone replies to a post (reply refs to its root and to it); the post's author is notified. */
  addReply(uri: string, input: Omit<BlueskyPostInput, 'inReplyTo' | 'repostOf'>): string;
  /** Someone likes a post (once per account); returns the like record's URI. */
  like(uri: string, author: SandboxPostInput['author']): string;
  /** Someone reposts a post; returns the repost record's URI. */
  repost(uri: string, author: SandboxPostInput['author']): string;
  /** Posts `account` created through `com.atproto.repo.createRecord` as replies, oldest first. */
  replies(): SandboxReply[];
  /** Every post, as `app.bsky.feed.defs#postView` (for an anonymous viewer), oldest first. */
  posts(): BlueskyPostViewJson[];
  /**
   * While on, every other author's posts are closed to our replies, as a threadgate allowing nobody
   * does: their views say `viewer.replyDisabled` and carry the threadgate; a reply created anyway
   * (the PDS does not refuse it) is hidden from threads and notifications, as the AppView hides it.
   */
  setReplyRestricted(restricted: boolean): void;
  /** Starts a fresh rate-limit window. */
  resetRateLimit(): void;
  /** Requests received, faulted ones included; with `path`, only those whose path starts with it. */
  requestCount(path?: string): number;
  close(): Promise<void>;
}

/** app.bsky.feed.defs#postView, as the stand-in serves it. */
export interface BlueskyPostViewJson {
  readonly uri: string;
  readonly cid: string;
  readonly author: Record<string, unknown>;
  readonly record: Record<string, unknown>;
  readonly replyCount: number;
  readonly repostCount: number;
  readonly likeCount: number;
  readonly quoteCount: number;
  readonly bookmarkCount: number;
  readonly indexedAt: string;
  readonly viewer: Record<string, unknown>;
  readonly labels: readonly unknown[];
  readonly threadgate?: Record<string, unknown>;
}

interface Actor {
  readonly did: string;
  readonly handle: string;
  displayName: string;
  followers: number;
  posts: number;
  readonly createdAt: string;
}

interface StoredRecord {
  readonly uri: string;
  readonly cid: string;
  readonly did: string;
  readonly collection: string;
  readonly rkey: string;
  readonly value: Record<string, unknown>;
  readonly indexedAt: string;
  /** The earlier of createdAt and indexedAt: what search and notifications sort by. */
  readonly sortAt: string;
}

interface PostEntry {
  readonly record: StoredRecord;
  readonly text: string;
  readonly parent: string | null;
  readonly root: string | null;
  readonly tags: ReadonlySet<string>;
  readonly mentions: ReadonlySet<string>;
  readonly links: readonly string[];
  readonly langs: readonly string[];
  /** Likes and reposts by DID → the like's or repost's URI. */
  readonly likes: Map<string, string>;
  readonly reposts: Map<string, string>;
  replies: number;
  /** A reply the root's threadgate did not allow: hidden from threads, counts and notifications. */
  readonly hidden: boolean;
}

interface Notification {
  readonly recipient: string;
  readonly record: StoredRecord;
  readonly reason: 'reply' | 'mention' | 'like' | 'repost';
  readonly reasonSubject: string | null;
}

interface Session {
  readonly did: string;
  readonly scope: 'com.atproto.appPass' | 'com.atproto.access';
  /** The pair a refresh with this session's refresh token handed out (reused within the grace period). */
  next: { readonly accessJwt: string; readonly refreshJwt: string; readonly at: number } | null;
}

type Viewer = string | null;
interface CallContext {
  readonly params: Record<string, unknown>;
  readonly input: Record<string, unknown>;
  readonly viewer: Viewer;
  readonly session: { readonly jti: string; readonly session: Session } | null;
}
interface Method {
  readonly auth: 'none' | 'optional' | 'access' | 'refresh';
  readonly handle: (context: CallContext) => SandboxResponse;
}

/** createSession over its per-identifier limit. */
class RateLimited extends Error {
  readonly limit: number;
  readonly windowMs: number;
  readonly resetAt: number;
  constructor(limit: number, windowMs: number, resetAt: number) {
    super('Rate Limit Exceeded');
    this.limit = limit;
    this.windowMs = windowMs;
    this.resetAt = resetAt;
  }
}

/** An XRPC error answer: the status and `{ error, message }`. */
class XrpcFailure extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, message: string) {
    super(message);
    this.status = status;
    this.error = error;
  }
}

const fail = (status: number, error: string, message: string): never => {
  throw new XrpcFailure(status, error, message);
};

const POST = 'app.bsky.feed.post';
const LIKE = 'app.bsky.feed.like';
const REPOST = 'app.bsky.feed.repost';
/** How many levels up a reply notifies (the AppView's REPLY_NOTIF_DEPTH). */
const REPLY_NOTIF_DEPTH = 5;
/** How long a used refresh token still answers with the pair it gave (the PDS keeps two hours). */
const REFRESH_GRACE_MS = 2 * 60 * 60 * 1000;
const REFRESH_TTL_S = 90 * 24 * 60 * 60;
/** createSession per identifier: 30 per 5 minutes and 300 a day (docs.bsky.app, "Rate Limits"). */
const LOGIN_LIMITS = [
  { limit: 30, windowMs: 5 * 60 * 1000 },
  { limit: 300, windowMs: 24 * 60 * 60 * 1000 },
] as const;
/** The deepest offset the search service pages to (palomar refuses a cursor beyond it). */
const SEARCH_MAX_OFFSET = 10_000;

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Starts a Bluesky stand-in (the XRPC API of a PDS and its AppView) on 127.0.0.1. */
export async function startBlueskySandbox(options: BlueskySandboxOptions = {}): Promise<BlueskySandbox> {
  const handleDomain = options.handleDomain ?? 'bsky.social';
  const rateLimit = options.rateLimit ?? { limit: 3000, windowSeconds: 300 };
  const accessTtl = options.accessTokenTtlSeconds ?? 7200;
  let replyRestricted = options.replyRestricted ?? false;
  const secret = randomBytes(32);
  const appPassword = [0, 1, 2, 3].map(() => randomBytes(3).toString('hex').slice(0, 4)).join('-');
  const tid = createTidClock();
  const requestPaths: string[] = [];
  const injector = createFaultInjector();
  const faults: FaultInjector = {
    inject: (rule) => injector.inject(rule),
    take(method, path) {
      requestPaths.push(path);
      return injector.take(method, path);
    },
    clear: () => injector.clear(),
    get pending() {
      return injector.pending;
    },
  };

  // One clock for indexing: every record gets its own millisecond, in the order it arrived.
  let lastIndexed = 0;
  const indexTime = () => {
    lastIndexed = Math.max(Date.now(), lastIndexed + 1);
    return lastIndexed;
  };

  const actors = new Map<string, Actor>();
  const byHandle = new Map<string, Actor>();
  const repos = new Map<string, Map<string, StoredRecord>>();
  const posts = new Map<string, PostEntry>();
  const postOrder: PostEntry[] = [];
  const notifications: Notification[] = [];
  const replyLog: SandboxReply[] = [];
  const sessions = new Map<string, Session>();
  const logins = new Map<string, number[]>();
  const window = { start: 0, count: 0 };
  let baseUrl = '';

  const actorFor = (name: string, details: SandboxPostInput['author'] | null): Actor => {
    const handle = blueskyHandleFor(name, handleDomain);
    let actor = byHandle.get(handle);
    if (actor === undefined) {
      actor = {
        did: details?.id?.startsWith('did:') ? details.id : didFor(handle),
        handle,
        displayName: '',
        followers: 0,
        posts: 0,
        createdAt: new Date().toISOString(),
      };
      actors.set(actor.did, actor);
      byHandle.set(handle, actor);
    }
    // A profile record holds at most 64 graphemes of display name (app.bsky.actor.profile).
    if (details?.name !== undefined)
      actor.displayName = [...graphemes.segment(details.name)]
        .slice(0, 64)
        .map((g) => g.segment)
        .join('');
    if (details?.followers !== undefined) actor.followers = details.followers;
    return actor;
  };
  const ownHandle = options.account?.handle ?? `kikimimi-support.${handleDomain}`;
  const own = actorFor(ownHandle, {
    handle: ownHandle,
    name: options.account?.displayName ?? 'kikimimi support',
  });
  /** A handle or DID → the actor, if there is one. */
  const actorOf = (identifier: string): Actor | undefined =>
    identifier.startsWith('did:') ? actors.get(identifier) : byHandle.get(identifier.toLowerCase());

  // --- records and their indexing -------------------------------------------------------------

  const parseUri = (uri: string) => {
    const m = /^at:\/\/([^/]+)\/([^/]+)\/([^/]+)$/u.exec(uri);
    return m === null ? null : { repo: m[1] as string, collection: m[2] as string, rkey: m[3] as string };
  };
  const authorOf = (uri: string) => parseUri(uri)?.repo ?? '';

  const notify = (
    recipient: string,
    record: StoredRecord,
    reason: Notification['reason'],
    subject: string | null,
  ) => notifications.push({ recipient, record, reason, reasonSubject: subject });

  /** Writes a record into a repository and indexes it as the AppView would. */
  function putRecord(
    did: string,
    collection: string,
    rkey: string,
    value: Record<string, unknown>,
    indexed = indexTime(),
  ): StoredRecord {
    const repo = repos.get(did) ?? new Map<string, StoredRecord>();
    repos.set(did, repo);
    const key = `${collection}/${rkey}`;
    // The repository's tree holds one value per key (@atproto/repo's MST throws, the PDS answers 500).
    if (repo.has(key)) fail(500, 'InternalServerError', 'Internal Server Error');
    const created = typeof value.createdAt === 'string' ? Date.parse(value.createdAt) : Number.NaN;
    const record: StoredRecord = {
      uri: `at://${did}/${collection}/${rkey}`,
      cid: cidFor(value),
      did,
      collection,
      rkey,
      value,
      indexedAt: new Date(indexed).toISOString(),
      sortAt: new Date(Number.isNaN(created) ? indexed : Math.min(created, indexed)).toISOString(),
    };
    repo.set(key, record);
    if (collection === POST) indexPost(record);
    else if (collection === LIKE || collection === REPOST) indexReaction(record);
    return record;
  }

  const strongRef = (value: unknown) => {
    const ref = value as { uri?: unknown } | undefined;
    return typeof ref?.uri === 'string' ? ref.uri : null;
  };
  /** The post that starts the thread `entry` is in (its threadgate governs every reply in it). */
  const rootOf = (entry: PostEntry) => (entry.root === null ? entry : (posts.get(entry.root) ?? entry));
  /** Whether `did` may not reply in the thread of `entry`: restricted, and not the root's author. */
  const closedTo = (entry: PostEntry, did: string) => {
    const root = rootOf(entry);
    return replyRestricted && root.record.did !== own.did && did !== root.record.did;
  };

  function indexPost(record: StoredRecord) {
    const value = record.value as {
      text?: string;
      reply?: { root?: unknown; parent?: unknown };
      facets?: BlueskyFacet[];
      tags?: string[];
      langs?: string[];
      embed?: { external?: { uri?: string } };
    };
    const parent = strongRef(value.reply?.parent);
    const root = strongRef(value.reply?.root);
    const mentions = new Set<string>();
    const tags = new Set<string>((value.tags ?? []).map((t) => t.toLowerCase()));
    const links: string[] = [];
    for (const facet of value.facets ?? []) {
      for (const feature of facet.features) {
        if (feature.$type === 'app.bsky.richtext.facet#mention' && typeof feature.did === 'string')
          mentions.add(feature.did);
        if (feature.$type === 'app.bsky.richtext.facet#tag' && typeof feature.tag === 'string')
          tags.add(feature.tag.toLowerCase());
        if (feature.$type === 'app.bsky.richtext.facet#link' && typeof feature.uri === 'string')
          links.push(feature.uri);
      }
    }
    if (typeof value.embed?.external?.uri === 'string') links.push(value.embed.external.uri);
    const above = parent === null ? undefined : posts.get(parent);
    const entry: PostEntry = {
      record,
      text: value.text ?? '',
      parent,
      root,
      tags,
      mentions,
      links,
      langs: value.langs ?? [],
      likes: new Map(),
      reposts: new Map(),
      replies: 0,
      hidden: above !== undefined && closedTo(above, record.did),
    };
    posts.set(record.uri, entry);
    postOrder.push(entry);
    const author = actors.get(record.did);
    if (author !== undefined) author.posts += 1;
    if (entry.hidden) return;
    if (above !== undefined) above.replies += 1;

    // Who hears of it, once each, never the author (the AppView's notifsForInsert): the mentioned
    // accounts, then the authors of the posts above it, up to REPLY_NOTIF_DEPTH levels.
    const notified = new Set([record.did]);
    for (const did of mentions) {
      if (notified.has(did)) continue;
      notified.add(did);
      notify(did, record, 'mention', null);
    }
    let ancestor = above;
    for (let height = 0; ancestor !== undefined && height < REPLY_NOTIF_DEPTH; height += 1) {
      const did = ancestor.record.did;
      if (!notified.has(did)) {
        notified.add(did);
        notify(did, record, 'reply', ancestor.record.uri);
      }
      ancestor = ancestor.parent === null ? undefined : posts.get(ancestor.parent);
    }
  }

  function indexReaction(record: StoredRecord) {
    const subject = strongRef(record.value.subject);
    const target = subject === null ? undefined : posts.get(subject);
    if (target === undefined || subject === null) return;
    const list = record.collection === LIKE ? target.likes : target.reposts;
    if (list.has(record.did)) return;
    list.set(record.did, record.uri);
    if (target.record.did !== record.did)
      notify(target.record.did, record, record.collection === LIKE ? 'like' : 'repost', subject);
  }

  // --- views ---------------------------------------------------------------------------------

  const basicProfile = (actor: Actor) => ({
    did: actor.did,
    handle: actor.handle,
    ...(actor.displayName === '' ? {} : { displayName: actor.displayName }),
    viewer: { muted: false, blockedBy: false },
    labels: [],
    createdAt: actor.createdAt,
  });
  const profile = (actor: Actor) => ({ ...basicProfile(actor), indexedAt: actor.createdAt });
  const detailedProfile = (actor: Actor) => ({
    ...profile(actor),
    followersCount: actor.followers,
    followsCount: 0,
    postsCount: actor.posts,
  });
  const actorView = (did: string) =>
    basicProfile(
      actors.get(did) ?? {
        did,
        handle: 'handle.invalid',
        displayName: '',
        followers: 0,
        posts: 0,
        createdAt: new Date(0).toISOString(),
      },
    );

  function postView(entry: PostEntry, viewer: Viewer): BlueskyPostViewJson {
    const { record } = entry;
    const gated = replyRestricted && rootOf(entry) === entry && record.did !== own.did;
    const like = viewer === null ? undefined : entry.likes.get(viewer);
    const repost = viewer === null ? undefined : entry.reposts.get(viewer);
    const gate = {
      $type: 'app.bsky.feed.threadgate',
      post: record.uri,
      allow: [],
      createdAt: record.value.createdAt as string,
    };
    return {
      uri: record.uri,
      cid: record.cid,
      author: actorView(record.did),
      record: record.value,
      bookmarkCount: 0,
      replyCount: entry.replies,
      repostCount: entry.reposts.size,
      likeCount: entry.likes.size,
      quoteCount: 0,
      indexedAt: record.indexedAt,
      viewer: {
        bookmarked: false,
        threadMuted: false,
        embeddingDisabled: false,
        ...(like === undefined ? {} : { like }),
        ...(repost === undefined ? {} : { repost }),
        ...(viewer !== null && closedTo(entry, viewer) ? { replyDisabled: true } : {}),
      },
      labels: [],
      ...(gated
        ? {
            threadgate: {
              uri: `at://${record.did}/app.bsky.feed.threadgate/${record.rkey}`,
              cid: cidFor(gate),
              record: gate,
              lists: [],
            },
          }
        : {}),
    };
  }

  const visiblePosts = () => postOrder.filter((p) => !p.hidden);

  // --- sessions ------------------------------------------------------------------------------

  const sign = (header: object, payload: object) => {
    const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  };
  const audience = () => `did:web:${new URL(baseUrl).hostname}`;
  function issue(did: string, scope: Session['scope']) {
    const now = Math.floor(Date.now() / 1000);
    const jti = randomBytes(32).toString('base64url');
    sessions.set(jti, { did, scope, next: null });
    return {
      accessJwt: sign(
        { typ: 'at+jwt', alg: 'HS256' },
        { scope, aud: audience(), sub: did, iat: now, exp: now + accessTtl },
      ),
      refreshJwt: sign(
        { typ: 'refresh+jwt', alg: 'HS256' },
        { scope: 'com.atproto.refresh', aud: audience(), sub: did, jti, iat: now, exp: now + REFRESH_TTL_S },
      ),
    };
  }
  /** The claims of a token this stand-in signed, checked like the PDS's verifyBearerJwt. */
  function verify(token: string, typ: 'at+jwt' | 'refresh+jwt') {
    const [header, payload, signature] = token.split('.');
    const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature ?? '', 'base64url');
    let claims: { typ?: string; scope?: string; sub?: string; exp?: number; jti?: string } = {};
    try {
      const head = JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as { typ?: string };
      claims = { ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), typ: head.typ };
    } catch {
      fail(400, 'InvalidToken', 'Token could not be verified');
    }
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || claims.typ !== typ)
      fail(400, 'InvalidToken', 'Token could not be verified');
    if ((claims.exp ?? 0) * 1000 <= Date.now()) fail(400, 'ExpiredToken', 'Token has expired');
    return claims;
  }
  const bearer = (request: SandboxRequest) => {
    const header = request.headers.authorization;
    return typeof header === 'string' && /^Bearer /iu.test(header) ? header.slice(7).trim() : null;
  };
  const didDoc = (actor: Actor) => ({
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: actor.did,
    alsoKnownAs: [`at://${actor.handle}`],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: baseUrl }],
  });
  const sessionBody = (actor: Actor) => ({
    handle: actor.handle,
    did: actor.did,
    didDoc: didDoc(actor),
    email: `${actor.handle.split('.')[0]}@example.com`,
    emailConfirmed: true,
    emailAuthFactor: false,
    active: true,
  });
  const ok = (body: unknown): SandboxResponse => ({ status: 200, body });

  // --- methods -------------------------------------------------------------------------------

  const methods: Record<string, Method> = {
    'com.atproto.server.createSession': {
      auth: 'none',
      handle({ input }) {
        const identifier = String(input.identifier).toLowerCase();
        const now = Date.now();
        const attempts = (logins.get(identifier) ?? []).filter((t) => now - t < LOGIN_LIMITS[1].windowMs);
        attempts.push(now);
        logins.set(identifier, attempts);
        for (const { limit, windowMs } of LOGIN_LIMITS) {
          const inWindow = attempts.filter((t) => now - t < windowMs);
          if (inWindow.length > limit)
            throw new RateLimited(limit, windowMs, (inWindow[0] as number) + windowMs);
        }
        const actor =
          actorOf(identifier) ?? (identifier === `${own.handle.split('.')[0]}@example.com` ? own : undefined);
        if (actor !== own || input.password !== appPassword)
          fail(401, 'AuthenticationRequired', 'Invalid identifier or password');
        return ok({ ...issue(own.did, 'com.atproto.appPass'), ...sessionBody(own) });
      },
    },
    'com.atproto.server.refreshSession': {
      auth: 'refresh',
      handle({ session }) {
        const current = session as NonNullable<CallContext['session']>;
        const actor = actors.get(current.session.did) as Actor;
        const used = current.session.next;
        if (used !== null && Date.now() - used.at > REFRESH_GRACE_MS)
          fail(400, 'ExpiredToken', 'Token has been revoked');
        const pair = used ?? { ...issue(actor.did, current.session.scope), at: Date.now() };
        current.session.next = pair;
        return ok({ accessJwt: pair.accessJwt, refreshJwt: pair.refreshJwt, ...sessionBody(actor) });
      },
    },
    'com.atproto.server.getSession': {
      auth: 'access',
      handle: ({ viewer }) => ok(sessionBody(actors.get(viewer as string) as Actor)),
    },
    'com.atproto.identity.resolveHandle': {
      auth: 'none',
      handle({ params }) {
        const actor = byHandle.get(String(params.handle).toLowerCase());
        return actor === undefined
          ? fail(400, 'HandleNotFound', 'Unable to resolve handle')
          : ok({ did: actor.did });
      },
    },
    'app.bsky.actor.getProfile': {
      auth: 'optional',
      handle({ params }) {
        const actor = actorOf(String(params.actor));
        return actor === undefined
          ? fail(400, 'InvalidRequest', 'Profile not found')
          : ok(detailedProfile(actor));
      },
    },
    'app.bsky.actor.getProfiles': {
      auth: 'optional',
      handle: ({ params }) =>
        ok({
          profiles: (params.actors as string[])
            .map(actorOf)
            .filter((a): a is Actor => a !== undefined)
            .map(detailedProfile),
        }),
    },
    'app.bsky.feed.searchPosts': { auth: 'optional', handle: searchPosts },
    'app.bsky.feed.getPosts': {
      auth: 'optional',
      handle: ({ params, viewer }) =>
        ok({
          posts: (params.uris as string[])
            .map((uri) => posts.get(uri))
            .filter((p): p is PostEntry => p !== undefined)
            .map((p) => postView(p, viewer)),
        }),
    },
    'app.bsky.feed.getPostThread': { auth: 'optional', handle: getPostThread },
    'app.bsky.notification.listNotifications': { auth: 'access', handle: listNotifications },
    'com.atproto.repo.getRecord': {
      auth: 'none',
      handle({ params }) {
        const did = actorOf(String(params.repo))?.did ?? String(params.repo);
        const uri = `at://${did}/${String(params.collection)}/${String(params.rkey)}`;
        const found = repos.get(did)?.get(`${String(params.collection)}/${String(params.rkey)}`);
        if (found === undefined || (params.cid !== undefined && params.cid !== found.cid))
          fail(400, 'RecordNotFound', `Could not locate record: ${uri}`);
        return ok({ uri, cid: found?.cid, value: found?.value });
      },
    },
    'com.atproto.repo.createRecord': { auth: 'access', handle: createRecord },
  };

  function createRecord({ input, viewer }: CallContext): SandboxResponse {
    const repo = String(input.repo);
    if (actorOf(repo)?.did !== viewer) fail(401, 'AuthenticationRequired', 'Authentication Required');
    const collection = String(input.collection);
    const given = input.record as Record<string, unknown>;
    if (typeof given !== 'object' || given === null || Array.isArray(given))
      fail(400, 'InvalidRequest', 'Invalid record: must be an object');
    const record = given.$type === undefined ? { ...given, $type: collection } : given;
    if (record.$type !== collection)
      fail(400, 'InvalidRequest', `Invalid $type: expected ${collection}, got ${String(record.$type)}`);
    const rkey = typeof input.rkey === 'string' ? input.rkey : tid();
    if (!/^[A-Za-z0-9._:~-]{1,512}$/u.test(rkey) || rkey === '.' || rkey === '..')
      fail(400, 'InvalidRequest', `Invalid record key: ${rkey}`);
    if (input.validate !== false) {
      const known = lexicons.getDef(collection);
      if (known === undefined || known.type !== 'record') {
        if (input.validate === true) fail(400, 'InvalidRequest', `Unknown lexicon type: ${collection}`);
      } else {
        if (known.key === 'tid' && !/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/u.test(rkey))
          fail(
            400,
            'InvalidRequest',
            `Invalid record key for ${collection}: Invalid TID string (got "${rkey}")`,
          );
        try {
          lexicons.assertValidRecord(collection, record);
        } catch (error) {
          fail(400, 'InvalidRequest', `Invalid ${collection} record: ${(error as Error).message}`);
        }
      }
    }
    const stored = putRecord(viewer as string, collection, rkey, record);
    if (collection === POST) {
      const parent = posts.get(stored.uri)?.parent ?? null;
      if (parent !== null)
        replyLog.push({
          id: stored.uri,
          inReplyTo: parent,
          text: String(record.text ?? ''),
          idempotencyKey: null,
          visibility: null,
          createdAt: stored.indexedAt,
        });
    }
    return ok({
      uri: stored.uri,
      cid: stored.cid,
      commit: { cid: cidFor({ rev: tid(), data: stored.cid }), rev: tid() },
      validationStatus: 'valid',
    });
  }

  function searchPosts({ params, viewer }: CallContext): SandboxResponse {
    const q = String(params.q).trim();
    if (q === '') fail(400, 'BadQueryString', 'must pass non-empty search query');
    const offset = params.cursor === undefined ? 0 : Number.parseInt(String(params.cursor), 10);
    if (Number.isNaN(offset))
      fail(400, 'InvalidRequest', `invalid value for 'cursor': ${String(params.cursor)}`);
    if (offset > SEARCH_MAX_OFFSET)
      fail(400, 'InvalidRequest', "invalid value for 'cursor' (can't paginate so deep)");
    const limit = (params.limit as number | undefined) ?? 25;
    let query: BlueskySearchQuery;
    try {
      query = parseSearchQuery(q, (handle) => byHandle.get(handle)?.did);
    } catch (error) {
      if (error instanceof QuerySyntaxError) return fail(400, 'BadQueryString', error.message);
      throw error;
    }
    // The parameters say the same as the operators; an operator in q wins (palomar's Update).
    const since = query.since ?? (params.since === undefined ? null : searchTime(String(params.since)));
    const until = query.until ?? (params.until === undefined ? null : searchTime(String(params.until)));
    const author =
      query.author ?? (params.author === undefined ? null : (actorOf(String(params.author))?.did ?? '-'));
    const mentions =
      query.mentions ??
      (params.mentions === undefined ? null : (actorOf(String(params.mentions))?.did ?? '-'));
    const lang = query.lang ?? (params.lang as string | undefined)?.toLowerCase() ?? null;
    const domain = query.domain ?? (params.domain as string | undefined)?.toLowerCase() ?? null;
    const url = query.url ?? (params.url as string | undefined) ?? null;
    const tags = [...query.tags, ...((params.tag as string[] | undefined) ?? [])].map((t) => t.toLowerCase());
    const hits = visiblePosts()
      .filter((p) => {
        const at = p.record.sortAt;
        if ((since !== null && at < since) || (until !== null && at >= until)) return false;
        if (author !== null && p.record.did !== author) return false;
        if (mentions !== null && !p.mentions.has(mentions)) return false;
        if (
          lang !== null &&
          !p.langs.some((l) => l.toLowerCase() === lang || l.toLowerCase().startsWith(`${lang}-`))
        )
          return false;
        if (tags.some((t) => !p.tags.has(t))) return false;
        if (domain !== null && !p.links.some((l) => hostOf(l) === domain)) return false;
        if (url !== null && !p.links.includes(url)) return false;
        return query.matchesText(preparePost(asRulesPost(p)));
      })
      // sort=latest (and "top", which the stand-in does not rank): newest sort time first.
      .sort((a, b) => (a.record.sortAt < b.record.sortAt ? 1 : a.record.sortAt > b.record.sortAt ? -1 : 0));
    const page = hits.slice(offset, offset + limit);
    const more = page.length === limit && offset + limit < SEARCH_MAX_OFFSET;
    return ok({
      ...(more ? { cursor: String(offset + limit) } : {}),
      hitsTotal: hits.length,
      posts: page.map((p) => postView(p, viewer)),
    });
  }

  const hostOf = (link: string) => {
    try {
      return new URL(link).hostname.toLowerCase();
    } catch {
      return '';
    }
  };

  /** The post as kikimimi's matcher reads posts (for the search's words). */
  const asRulesPost = (p: PostEntry) => {
    const actor = actors.get(p.record.did);
    return {
      platform: 'bluesky' as const,
      id: p.record.uri,
      url: `https://bsky.app/profile/${p.record.did}/post/${p.record.rkey}`,
      author: {
        id: p.record.did,
        handle: actor?.handle ?? 'handle.invalid',
        displayName: actor?.displayName ?? '',
        followers: null,
        protected: false,
      },
      text: [p.text, ...p.links].join('\n'),
      lang: p.langs[0] ?? null,
      createdAt: p.record.sortAt,
      repostOf: null,
      inReplyTo: p.parent,
      conversationId: p.root ?? p.record.uri,
      hashtags: [...p.tags],
      mentions: [],
    };
  };

  function getPostThread({ params, viewer }: CallContext): SandboxResponse {
    const uri = String(params.uri);
    const entry = posts.get(uri);
    if (entry === undefined || entry.hidden) fail(400, 'NotFound', `Post not found: ${uri}`);
    const depth = (params.depth as number | undefined) ?? 6;
    const parentHeight = (params.parentHeight as number | undefined) ?? 80;
    const children = (of: string) => visiblePosts().filter((p) => p.parent === of);
    const down = (p: PostEntry, left: number): Record<string, unknown> => ({
      $type: 'app.bsky.feed.defs#threadViewPost',
      post: postView(p, viewer),
      ...(left > 0 ? { replies: children(p.record.uri).map((c) => down(c, left - 1)) } : {}),
    });
    const up = (of: string | null, left: number): Record<string, unknown> | undefined => {
      if (of === null || left <= 0) return undefined;
      const p = posts.get(of);
      if (p === undefined) return { $type: 'app.bsky.feed.defs#notFoundPost', uri: of, notFound: true };
      const parent = up(p.parent, left - 1);
      return {
        $type: 'app.bsky.feed.defs#threadViewPost',
        post: postView(p, viewer),
        ...(parent === undefined ? {} : { parent }),
      };
    };
    const start = entry as PostEntry;
    const parent = up(start.parent, parentHeight);
    return ok({ thread: { ...down(start, depth), ...(parent === undefined ? {} : { parent }) } });
  }

  function listNotifications({ params, viewer }: CallContext): SandboxResponse {
    if (params.seenAt !== undefined) fail(400, 'InvalidRequest', 'The seenAt parameter is unsupported');
    const reasons = params.reasons as string[] | undefined;
    const limit = (params.limit as number | undefined) ?? 50;
    let before: string | null = null;
    if (params.cursor !== undefined) {
      const ms = Date.parse(String(params.cursor));
      if (Number.isNaN(ms)) fail(400, 'InvalidRequest', 'Malformed cursor');
      before = new Date(ms).toISOString();
    }
    const mine = notifications
      .filter((n) => n.recipient === viewer && (reasons === undefined || reasons.includes(n.reason)))
      .filter((n) => before === null || n.record.sortAt < before)
      .sort((a, b) => (a.record.sortAt < b.record.sortAt ? 1 : a.record.sortAt > b.record.sortAt ? -1 : 0));
    const page = mine.slice(0, limit);
    const last = page.at(-1);
    return ok({
      ...(mine.length > limit && last !== undefined ? { cursor: last.record.sortAt } : {}),
      notifications: page.map((n) => ({
        uri: n.record.uri,
        cid: n.record.cid,
        author: profile(actors.get(n.record.did) as Actor),
        reason: n.reason,
        ...(n.reasonSubject === null ? {} : { reasonSubject: n.reasonSubject }),
        record: n.record.value,
        isRead: false,
        indexedAt: n.record.sortAt,
        labels: [],
      })),
    });
  }

  // --- XRPC over HTTP --------------------------------------------------------------------------

  const rateHeaders = (): { headers: Record<string, string>; spent: boolean } => {
    const now = Date.now();
    const period = rateLimit.windowSeconds * 1000;
    if (now - window.start >= period) {
      window.start = now;
      window.count = 0;
    }
    window.count += 1;
    return {
      headers: {
        'ratelimit-limit': String(rateLimit.limit),
        'ratelimit-remaining': String(Math.max(0, rateLimit.limit - window.count)),
        'ratelimit-reset': String(Math.floor((window.start + period) / 1000)),
        'ratelimit-policy': `${rateLimit.limit};w=${rateLimit.windowSeconds}`,
      },
      spent: window.count > rateLimit.limit,
    };
  };

  const errorBody = (status: number, error: string, message: string, headers: Record<string, string>) => ({
    status,
    body: { error, message },
    headers,
  });

  /** Query parameters typed by the method's lexicon (integers, booleans, arrays), as xrpc-server decodes them. */
  function decodeParams(nsid: string, query: URLSearchParams): Record<string, unknown> {
    const def = lexicons.getDef(nsid) as {
      parameters?: { properties?: Record<string, { type: string; items?: { type: string } }> };
    };
    const out: Record<string, unknown> = {};
    const decode = (type: string | undefined, value: string) =>
      type === 'integer' ? Number(value) : type === 'boolean' ? value === 'true' : value;
    for (const [name, property] of Object.entries(def.parameters?.properties ?? {})) {
      const values = query.getAll(name);
      if (values.length === 0) continue;
      out[name] =
        property.type === 'array'
          ? values.map((v) => decode(property.items?.type, v))
          : decode(property.type, values[0] as string);
    }
    return out;
  }

  async function dispatch(request: SandboxRequest): Promise<SandboxResponse> {
    const limits = rateHeaders();
    if (limits.spent)
      return errorBody(429, 'RateLimitExceeded', 'Rate Limit Exceeded', {
        ...limits.headers,
        'ratelimit-remaining': '0',
      });
    const nsid = request.params.nsid ?? '';
    const method = Object.hasOwn(methods, nsid) ? methods[nsid] : undefined;
    const def = method === undefined ? undefined : lexicons.getDef(nsid);
    if (method === undefined || def === undefined)
      return errorBody(501, 'MethodNotImplemented', 'Method Not Implemented', limits.headers);
    const expected = def.type === 'procedure' ? 'POST' : 'GET';
    if (request.method !== expected)
      return errorBody(
        400,
        'InvalidRequest',
        `Incorrect HTTP method (${request.method}) expected ${expected}`,
        limits.headers,
      );
    try {
      const params = decodeParams(nsid, request.query);
      try {
        lexicons.assertValidXrpcParams(nsid, params);
      } catch (error) {
        fail(400, 'InvalidRequest', `Invalid ${nsid} params: ${(error as Error).message}`);
      }
      let input: Record<string, unknown> = {};
      if (def.type === 'procedure' && (def as { input?: unknown }).input !== undefined) {
        if ('__unparseable' in request.body || Object.keys(request.body).length === 0)
          fail(400, 'InvalidRequest', 'A request body is expected but none was provided');
        try {
          lexicons.assertValidXrpcInput(nsid, request.body);
        } catch (error) {
          fail(400, 'InvalidRequest', `Invalid ${nsid} input: ${(error as Error).message}`);
        }
        input = request.body;
      }
      const token = bearer(request);
      let viewer: Viewer = null;
      let session: CallContext['session'] = null;
      if (method.auth === 'refresh') {
        if (token === null) fail(401, 'AuthMissing', 'Authentication Required');
        const claims = verify(token as string, 'refresh+jwt');
        const found = sessions.get(claims.jti ?? '');
        if (found === undefined) fail(400, 'ExpiredToken', 'Token has been revoked');
        session = { jti: claims.jti as string, session: found as Session };
        viewer = (found as Session).did;
      } else if (method.auth !== 'none' && token !== null) {
        viewer = verify(token, 'at+jwt').sub ?? null;
      } else if (method.auth === 'access') fail(401, 'AuthMissing', 'Authentication Required');
      const result = method.handle({ params, input, viewer, session });
      return { ...result, headers: { ...limits.headers, ...result.headers } };
    } catch (error) {
      if (error instanceof XrpcFailure)
        return errorBody(error.status, error.error, error.message, limits.headers);
      if (error instanceof RateLimited)
        return errorBody(429, 'RateLimitExceeded', 'Rate Limit Exceeded', {
          ...limits.headers,
          'ratelimit-limit': String(error.limit),
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(Math.floor(error.resetAt / 1000)),
          'ratelimit-policy': `${error.limit};w=${error.windowMs / 1000}`,
        });
      // As xrpc-server answers an unexpected failure: no details.
      return errorBody(500, 'InternalServerError', 'Internal Server Error', limits.headers);
    }
  }

  const running = await startHttpServer({
    routes: [
      { method: 'GET', path: '/xrpc/:nsid', handler: dispatch },
      { method: 'POST', path: '/xrpc/:nsid', handler: dispatch },
    ],
    faults,
    rateLimited: (resetInSeconds) => ({
      status: 429,
      body: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
      headers: {
        'ratelimit-limit': String(rateLimit.limit),
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + resetInSeconds),
        'ratelimit-policy': `${rateLimit.limit};w=${rateLimit.windowSeconds}`,
      },
    }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  baseUrl = running.url;

  // --- what people do (test helpers) -----------------------------------------------------------

  /** A record made through the helpers is checked like one made through createRecord. */
  const checked = (collection: string, record: Record<string, unknown>) => {
    try {
      lexicons.assertValidRecord(collection, record);
    } catch (error) {
      throw new Error(`bluesky sandbox: not a valid ${collection} record: ${(error as Error).message}`);
    }
    return record;
  };
  const postRef = (uri: string) => {
    const entry = posts.get(uri);
    if (entry === undefined) throw new Error(`bluesky sandbox: no post ${uri}`);
    return { uri, cid: entry.record.cid };
  };

  function addPost(input: BlueskyPostInput): string {
    const author = actorFor(input.author.handle, input.author);
    // Written now unless said otherwise: then it gets the instant it is indexed at, its own millisecond.
    const indexed = indexTime();
    const createdAt = new Date(input.createdAt ?? indexed).toISOString();
    if (input.repostOf !== undefined) return react(REPOST, input.repostOf, input.author, createdAt, indexed);
    const rich = new RichText({ text: input.text });
    let facets: BlueskyFacet[] = [...(input.facets ?? [])];
    if (input.facets === undefined) {
      rich.detectFacetsWithoutResolution();
      // The app resolves each mentioned handle to its DID; here everyone mentioned exists.
      facets = (rich.facets ?? []).map((facet) => ({
        index: facet.index,
        features: facet.features.map((f) =>
          f.$type === 'app.bsky.richtext.facet#mention'
            ? { ...f, did: actorFor(String((f as { did: string }).did), null).did }
            : f,
        ),
      }));
    }
    const inText = new Set(
      facets.flatMap((f) =>
        f.features.flatMap((x) => (typeof x.tag === 'string' ? [x.tag.toLowerCase()] : [])),
      ),
    );
    const extraTags = (input.hashtags ?? hashtagsIn(input.text)).filter((t) => !inText.has(t.toLowerCase()));
    let reply: { root: { uri: string; cid: string }; parent: { uri: string; cid: string } } | undefined;
    if (input.inReplyTo !== undefined) {
      const parent = postRef(input.inReplyTo);
      const parentEntry = posts.get(input.inReplyTo) as PostEntry;
      const root = parentEntry.root === null ? parent : postRef(parentEntry.root);
      reply = { root, parent };
    }
    const record = checked(POST, {
      $type: POST,
      text: input.text,
      ...(facets.length > 0 ? { facets } : {}),
      ...(reply === undefined ? {} : { reply }),
      ...(input.lang === undefined ? {} : { langs: [input.lang] }),
      ...(extraTags.length > 0 ? { tags: extraTags.slice(0, 8) } : {}),
      createdAt,
    });
    return putRecord(author.did, POST, tid(Date.parse(createdAt)), record, indexed).uri;
  }

  function react(
    collection: string,
    uri: string,
    who: SandboxPostInput['author'],
    createdAt?: string,
    indexed = indexTime(),
  ): string {
    const author = actorFor(who.handle, who);
    const entry = posts.get(uri);
    // A repost of a repost reposts the post (as the app does).
    const target =
      entry !== undefined
        ? postRef(uri)
        : postRef(
            strongRef(
              [...(repos.get(authorOf(uri))?.values() ?? [])].find((r) => r.uri === uri)?.value.subject,
            ) ?? uri,
          );
    const record = checked(collection, {
      $type: collection,
      subject: target,
      createdAt: createdAt ?? new Date(indexed).toISOString(),
    });
    return putRecord(author.did, collection, tid(), record, indexed).uri;
  }

  return {
    url: running.url,
    account: {
      get did() {
        return own.did;
      },
      get handle() {
        return own.handle;
      },
      get displayName() {
        return own.displayName;
      },
    },
    appPassword,
    faults,
    addPost,
    addReply: (uri, input) => {
      const { inReplyTo: _reply, repostOf: _repost, ...rest } = input as BlueskyPostInput;
      return addPost({ ...rest, inReplyTo: uri });
    },
    like: (uri, author) => {
      const entry = posts.get(uri);
      const existing = entry?.likes.get(actorFor(author.handle, author).did);
      return existing ?? react(LIKE, uri, author);
    },
    repost: (uri, author) => react(REPOST, uri, author),
    replies: () => [...replyLog],
    posts: () => postOrder.map((p) => postView(p, null)),
    setReplyRestricted(restricted) {
      replyRestricted = restricted;
    },
    resetRateLimit() {
      window.start = 0;
      window.count = 0;
    },
    requestCount: (path) =>
      path === undefined ? requestPaths.length : requestPaths.filter((p) => p.startsWith(path)).length,
    close: () => running.close(),
  };
}
