import { countGraphemes, countMastodonLength } from '@kikimimi/rules';
import { createFaultInjector, type FaultInjector } from '../faults.ts';
import { type RouteHandler, type SandboxRequest, type SandboxResponse, startHttpServer } from '../http.ts';
import { hashtagsIn, mentionsIn, type SandboxPostInput, type SandboxReply } from '../world.ts';
import { linkHeader, pageRequest, paginateById, parseId } from './pagination.ts';
import { formatStatusHtml } from './status-html.ts';
import { createStreamHub, normalizeTagName } from './streaming.ts';

/** Who can see a status, as Mastodon names it. */
export type MastodonVisibility = 'public' | 'unlisted' | 'private' | 'direct';

/** The account the stand-in's token belongs to. */
export interface MastodonSandboxAccountInput {
  readonly id: string;
  readonly username: string;
  readonly display_name: string;
}

/** How to set up a Mastodon stand-in; every field has a default. */
export interface MastodonSandboxOptions {
  /** Port to listen on (default: an ephemeral one). */
  readonly port?: number;
  /** The one valid access token (default `sandbox-mastodon-token`). */
  readonly accessToken?: string;
  /** The instance's domain, used in account handles and status URLs (default `mastodon.example`). */
  readonly domain?: string;
  /** The account the token acts as (default `kikimimi_support`). */
  readonly account?: MastodonSandboxAccountInput;
  /** `configuration.statuses.max_characters` (default 500). */
  readonly maxCharacters?: number;
  /** Requests allowed per window and the window (default 300 per 300 s, Mastodon's per-account limit). */
  readonly rateLimit?: { readonly limit: number; readonly windowSeconds: number };
  /**
   * List a reblog in a hashtag timeline when the reblogged status carries the tag (default false).
   * Real Mastodon never does (reblogs have no tags of their own and are kept out of tag timelines and
   * public streams); the switch exists so a connector's reblog handling can be exercised through a
   * source at all.
   */
  readonly reblogsInTagTimelines?: boolean;
  /** Start with replies refused (see `setReplyRestricted`; default false). */
  readonly replyRestricted?: boolean;
  /**
   * The version `GET /api/v2/instance` reports (default 4.5.0). 4.3.0 and 4.3.1 also reproduce their
   * search bug: `min_id` or `max_id` on `/api/v2/search` is refused with 422 "Invalid date …"
   * (mastodon#32731, fixed in 4.3.2).
   */
  readonly version?: string;
}

/** A post to put on the stand-in: the neutral input plus what only Mastodon has. */
export type MastodonPostInput = SandboxPostInput & {
  /** Raw `content` HTML instead of rendering `text` (`text` still drives search and tags). */
  readonly html?: string;
  readonly visibility?: MastodonVisibility;
  /** Posted on this instance (default: the author handle has no `@domain`). */
  readonly local?: boolean;
  /** Content warning (`spoiler_text`). */
  readonly spoilerText?: string;
};

/** The Account entity, as `GET /api/v1/accounts/:id` serves it. */
export interface MastodonAccountJson {
  readonly id: string;
  readonly username: string;
  readonly acct: string;
  readonly display_name: string;
  readonly locked: boolean;
  readonly bot: boolean;
  readonly discoverable: boolean;
  readonly indexable: boolean;
  readonly group: boolean;
  readonly created_at: string;
  readonly note: string;
  readonly url: string;
  readonly uri: string;
  readonly avatar: string;
  readonly avatar_static: string;
  readonly header: string;
  readonly header_static: string;
  readonly followers_count: number;
  readonly following_count: number;
  readonly statuses_count: number;
  readonly last_status_at: string | null;
  readonly hide_collections: boolean;
  readonly noindex: boolean;
  readonly emojis: readonly unknown[];
  readonly roles: readonly unknown[];
  readonly fields: readonly unknown[];
}

/** The Status entity, as the REST API and the streaming API serve it. */
export interface MastodonStatusJson {
  readonly id: string;
  readonly created_at: string;
  readonly in_reply_to_id: string | null;
  readonly in_reply_to_account_id: string | null;
  readonly sensitive: boolean;
  readonly spoiler_text: string;
  readonly visibility: MastodonVisibility;
  readonly language: string | null;
  readonly uri: string;
  readonly url: string | null;
  readonly replies_count: number;
  readonly reblogs_count: number;
  readonly favourites_count: number;
  readonly edited_at: string | null;
  readonly favourited: boolean;
  readonly reblogged: boolean;
  readonly muted: boolean;
  readonly bookmarked: boolean;
  readonly content: string;
  readonly filtered: readonly unknown[];
  readonly reblog: MastodonStatusJson | null;
  readonly application?: { readonly name: string; readonly website: string | null } | null;
  readonly account: MastodonAccountJson;
  readonly media_attachments: readonly unknown[];
  readonly mentions: readonly { id: string; username: string; url: string; acct: string }[];
  readonly tags: readonly { name: string; url: string }[];
  readonly emojis: readonly unknown[];
  readonly card: null;
  readonly poll: null;
}

/** A running Mastodon stand-in: REST on `url`, WebSocket streaming on `streamingUrl`. */
export interface MastodonSandbox {
  /** `http://127.0.0.1:PORT`, to pass as masto's `url`. */
  readonly url: string;
  /** `ws://127.0.0.1:PORT`, to pass as masto's `streamingApiUrl` (also in `/api/v2/instance`). */
  readonly streamingUrl: string;
  readonly accessToken: string;
  readonly domain: string;
  /** The account the token acts as. */
  readonly account: MastodonAccountJson;
  readonly faults: FaultInjector;
  /** Stores a status (and a mention notification if it mentions the account), streams it; returns its id. */
  addPost(input: MastodonPostInput): string;
  /**
   * Edits a status as its author would (`PUT /api/v1/statuses/:id`): new text (and tags from it),
   * `edited_at` set, the same id; streams a `status.update` with the whole status.
   */
  editPost(id: string, edit: MastodonPostEdit): void;
  /**
   * Deletes a status as its author would: gone from timelines, search, notifications and
   * `GET /api/v1/statuses/:id` (404); streams a `delete` whose payload is the id.
   */
  deletePost(id: string): void;
  /**
   * Someone replies to a status: the text starts with `@acct` of the status's author unless it already
   * mentions them, as Mastodon's clients write it, so a reply to us is also a mention notification.
   * Returns the reply's id.
   */
  addReply(inReplyToId: string, input: Omit<MastodonPostInput, 'inReplyTo' | 'repostOf'>): string;
  /** Someone favourites a status (once per account); a favourite of ours notifies us. */
  favourite(statusId: string, author: SandboxPostInput['author']): void;
  /** Someone reblogs a status; returns the reblog's id. A reblog of ours notifies us. */
  reblog(statusId: string, author: SandboxPostInput['author']): string;
  /** Statuses the connector posted through `POST /api/v1/statuses` as replies, oldest first. */
  replies(): SandboxReply[];
  /** Every stored status, oldest first. */
  statuses(): MastodonStatusJson[];
  /** Cuts every open streaming socket. */
  dropStreams(): void;
  /** Sends `data` as a frame, unchanged, to every open streaming socket. */
  sendStreamFrame(data: string): void;
  /** Open streaming sockets. */
  readonly streamConnections: number;
  setMaxCharacters(maxCharacters: number): void;
  /** While on, replies are refused with 403 "This action is not allowed" (as for a post whose author blocks us). */
  setReplyRestricted(restricted: boolean): void;
  /** Starts a fresh rate-limit window. */
  resetRateLimit(): void;
  /** Requests received, faulted ones included; with `path`, only those whose path starts with it. */
  requestCount(path?: string): number;
  close(): Promise<void>;
}

/** What an author changes in an edit. */
export interface MastodonPostEdit {
  readonly text: string;
  /** Rendered content; default: the text rendered as Mastodon renders a local post. */
  readonly html?: string;
  /** Tags; default: the hashtags in the text. */
  readonly hashtags?: readonly string[];
  readonly spoilerText?: string;
}

interface AccountRecord {
  json: MastodonAccountJson;
  readonly local: boolean;
  /** Host that serves the account's pages: our domain for local accounts. */
  readonly host: string;
}

interface StatusRecord {
  readonly id: bigint;
  /** Replaced on an edit and when its counts change. */
  json: MastodonStatusJson;
  readonly author: AccountRecord;
  /** Favourites and reblogs, oldest first; their ids page `favourited_by` and `reblogged_by`. */
  readonly favourites: Array<{ readonly id: bigint; readonly account: AccountRecord }>;
  readonly reblogs: Array<{ readonly id: bigint; readonly account: AccountRecord }>;
  /** Plain text, for search. */
  text: string;
  tags: ReadonlySet<string>;
  readonly visibility: MastodonVisibility;
  readonly local: boolean;
  readonly reblogOf: StatusRecord | null;
}

interface NotificationRecord {
  readonly id: bigint;
  readonly type: 'mention' | 'favourite' | 'reblog';
  readonly createdAt: string;
  readonly account: AccountRecord;
  readonly status: StatusRecord;
}

const IDEMPOTENCY_TTL_MS = 60 * 60 * 1000;
const VISIBILITIES: readonly MastodonVisibility[] = ['public', 'unlisted', 'private', 'direct'];

/** Mastodon formats X-RateLimit-Reset with Ruby's `iso8601(6)`: microseconds, `Z`. */
const isoMicros = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/u, '.$1000Z');

/** Snowflake-like ids as Mastodon makes them: milliseconds in the high bits, a sequence below. */
function createIdGenerator(): () => bigint {
  let last = 0n;
  return () => {
    const candidate = BigInt(Date.now()) << 16n;
    last = candidate > last ? candidate : last + 1n;
    return last;
  };
}

/**
 * A remote status's id comes from its own creation time (Mastodon's `Snowflake.id_at(created_at)`),
 * so a status that federates late sorts below statuses that arrived before it.
 */
function createBackdatedIds(taken: (id: bigint) => boolean): (at: Date) => bigint {
  let sequence = 0n;
  return (at) => {
    let id = (BigInt(at.getTime()) << 16n) + (sequence++ & 0xffffn);
    while (taken(id)) id++;
    return id;
  };
}

const error = (status: number, message: string, headers?: Record<string, string>): SandboxResponse => ({
  status,
  body: { error: message },
  ...(headers === undefined ? {} : { headers }),
});

/** Starts a Mastodon API stand-in (REST + WebSocket streaming) on 127.0.0.1. */
export async function startMastodonSandbox(options: MastodonSandboxOptions = {}): Promise<MastodonSandbox> {
  const accessToken = options.accessToken ?? 'sandbox-mastodon-token';
  const domain = options.domain ?? 'mastodon.example';
  const rateLimit = options.rateLimit ?? { limit: 300, windowSeconds: 300 };
  let maxCharacters = options.maxCharacters ?? 500;
  let replyRestricted = options.replyRestricted ?? false;
  const requestPaths: string[] = [];
  const injector = createFaultInjector();
  // The HTTP server asks the injector about every request before routing: the one place that sees them all.
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
  const nextStatusId = createIdGenerator();
  const backdatedId = createBackdatedIds((id) => byId.has(id.toString()));
  const version = options.version ?? '4.5.0';
  // mastodon#32731: 4.3.0 and 4.3.1 turn a status id into a date the search query cannot parse.
  const searchRefusesIds = /^4\.3\.[01](?!\d)/u.test(version);
  let nextAccountId = 200_000;
  let nextNotificationId = 34_975_000n;
  // Favourites and reblogs get ids of their own (Mastodon's favourites table), which page the lists of who did it.
  let nextActionId = 1_000_000n;

  const accounts = new Map<string, AccountRecord>();
  const records: StatusRecord[] = [];
  const byId = new Map<string, StatusRecord>();
  const notifications: NotificationRecord[] = [];
  const replyLog: SandboxReply[] = [];
  const idempotency = new Map<string, { id: string; expiresAt: number }>();
  const window = { start: 0, count: 0 };

  const createdAt = new Date().toISOString();
  const accountJson = (
    id: string,
    username: string,
    host: string,
    acct: string,
    extra: Partial<MastodonAccountJson> = {},
  ) => {
    const url = `https://${host}/@${username}`;
    return {
      id,
      username,
      acct,
      display_name: username,
      locked: false,
      bot: false,
      discoverable: true,
      indexable: true,
      group: false,
      created_at: createdAt,
      note: '',
      url,
      uri: `https://${host}/users/${username}`,
      avatar: `https://${domain}/avatars/original/missing.png`,
      avatar_static: `https://${domain}/avatars/original/missing.png`,
      header: `https://${domain}/headers/original/missing.png`,
      header_static: `https://${domain}/headers/original/missing.png`,
      followers_count: 0,
      following_count: 0,
      statuses_count: 0,
      last_status_at: null,
      hide_collections: false,
      noindex: false,
      emojis: [],
      roles: [],
      fields: [],
      ...extra,
    } satisfies MastodonAccountJson;
  };

  const own = options.account ?? {
    id: '110000000000000001',
    username: 'kikimimi_support',
    display_name: 'kikimimi support',
  };
  const ownRecord: AccountRecord = {
    json: accountJson(own.id, own.username, domain, own.username, { display_name: own.display_name }),
    local: true,
    host: domain,
  };
  accounts.set(own.username.toLowerCase(), ownRecord);

  /** `user` or `user@host` → the account, created on first sight; our own domain counts as local. */
  const accountFor = (handle: string, details: SandboxPostInput['author'] | null): AccountRecord => {
    const cleaned = handle.replace(/^[@＠]/u, '');
    const [username = cleaned, host] = cleaned.split('@');
    const local = host === undefined || host.toLowerCase() === domain;
    const acct = local ? username : `${username}@${host}`;
    const key = acct.toLowerCase();
    let record = accounts.get(key);
    if (record === undefined) {
      record = {
        json: accountJson(
          details?.id ?? String(nextAccountId++),
          username,
          local ? domain : (host as string),
          acct,
        ),
        local,
        host: local ? domain : (host as string),
      };
      accounts.set(key, record);
    }
    if (details !== null) {
      record.json = {
        ...record.json,
        display_name: details.name ?? record.json.display_name,
        followers_count: details.followers ?? record.json.followers_count,
        locked: details.protected ?? record.json.locked,
      };
    }
    return record;
  };

  // Filled in once the server listens; Link headers point back at the stand-in, as Mastodon's point at itself.
  let baseUrl = '';

  const tokenOf = (request: SandboxRequest): string | null => {
    const header = request.headers.authorization;
    if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice('Bearer '.length);
    return request.query.get('access_token');
  };

  /** Counts the request against the window; the headers Mastodon adds to every API response. */
  const countRequest = (): { headers: Record<string, string>; spent: boolean } => {
    const now = Date.now();
    const period = rateLimit.windowSeconds * 1000;
    const start = now - (now % period);
    if (window.start !== start) {
      window.start = start;
      window.count = 0;
    }
    window.count++;
    return {
      headers: {
        'x-ratelimit-limit': String(rateLimit.limit),
        'x-ratelimit-remaining': String(Math.max(0, rateLimit.limit - window.count)),
        'x-ratelimit-reset': isoMicros(new Date(start + period)),
      },
      spent: window.count > rateLimit.limit,
    };
  };

  type Auth = 'none' | 'optional' | 'user';
  const route = (method: string, path: string, auth: Auth, handler: RouteHandler) => ({
    method,
    path,
    handler: async (request: SandboxRequest): Promise<SandboxResponse> => {
      const limits = countRequest();
      if (limits.spent) return error(429, 'Too many requests', limits.headers);
      const token = tokenOf(request);
      // Doorkeeper refuses a wrong token even where no token is needed (`authorize_if_got_token!`).
      if (auth !== 'none' && token !== null && token !== accessToken) {
        return error(401, 'The access token is invalid', limits.headers);
      }
      if (auth === 'user' && token === null) return error(401, 'The access token is invalid', limits.headers);
      const response = await handler(request);
      return { ...response, headers: { ...limits.headers, ...response.headers } };
    },
  });

  const publicRecords = () => records.filter((r) => r.visibility === 'public');

  /** A status as the API serves it now: a reblog shows the reblogged status with its current counts. */
  const view = (record: StatusRecord): MastodonStatusJson =>
    record.reblogOf === null ? record.json : { ...record.json, reblog: view(record.reblogOf) };

  const notificationJson = (n: NotificationRecord) => ({
    id: n.id.toString(),
    type: n.type,
    created_at: n.createdAt,
    group_key: `ungrouped-${n.id}`,
    account: n.account.json,
    status: view(n.status),
  });

  /** Notifies the token's account (a notification row, and a `notification` event on its user streams). */
  const notify = (type: NotificationRecord['type'], account: AccountRecord, status: StatusRecord) => {
    if (account === ownRecord) return; // Mastodon does not notify you of your own actions
    const record: NotificationRecord = {
      id: nextNotificationId++,
      type,
      createdAt: new Date().toISOString(),
      account,
      status,
    };
    notifications.push(record);
    streams.notify(notificationJson(record));
  };

  /** Whether the token's account may see the status (private and direct ones only as author or mentioned). */
  const visible = (record: StatusRecord, authenticated: boolean) =>
    record.visibility === 'public' ||
    record.visibility === 'unlisted' ||
    (authenticated &&
      (record.author === ownRecord || record.json.mentions.some((m) => m.id === ownRecord.json.id)));

  /** GET /api/v1/statuses/:id/context: the chain above (oldest first) and the replies below, depth first. */
  const context: RouteHandler = (request) => {
    const authenticated = tokenOf(request) !== null;
    const record = byId.get(request.params.id ?? '');
    if (record === undefined || !visible(record, authenticated)) return error(404, 'Record not found');
    const ancestors: StatusRecord[] = [];
    for (let up = record.json.in_reply_to_id; up !== null; ) {
      const parent = byId.get(up);
      if (parent === undefined || ancestors.includes(parent)) break;
      ancestors.unshift(parent);
      up = parent.json.in_reply_to_id;
    }
    const children = new Map<string, StatusRecord[]>();
    for (const r of records) {
      const parentId = r.reblogOf === null ? r.json.in_reply_to_id : null;
      if (parentId === null) continue;
      const list = children.get(parentId) ?? [];
      list.push(r);
      children.set(parentId, list);
    }
    const descendants: StatusRecord[] = [];
    const walk = (id: string) => {
      for (const child of children.get(id) ?? []) {
        descendants.push(child);
        walk(child.json.id);
      }
    };
    walk(record.json.id);
    return {
      status: 200,
      body: {
        ancestors: ancestors.filter((r) => visible(r, authenticated)).map(view),
        descendants: descendants.filter((r) => visible(r, authenticated)).map(view),
      },
    };
  };

  /** GET /api/v1/statuses/:id/favourited_by and reblogged_by: accounts, paged by the action's id. */
  const actors =
    (which: 'favourites' | 'reblogs'): RouteHandler =>
    (request) => {
      const record = byId.get(request.params.id ?? '');
      if (record === undefined || !visible(record, tokenOf(request) !== null))
        return error(404, 'Record not found');
      const found = paginateById(record[which], pageRequest(request.query, 40));
      const limit = request.query.get('limit');
      const link = linkHeader(baseUrl, request.path, found, limit === null ? [] : [['limit', limit]]);
      return {
        status: 200,
        body: found.map((entry) => entry.account.json),
        ...(link === undefined ? {} : { headers: { link } }),
      };
    };

  const timelineTag: RouteHandler = (request) => {
    const tag = normalizeTagName(request.params.hashtag ?? '');
    const local = request.query.get('local') === 'true';
    const remote = request.query.get('remote') === 'true';
    const tagged = publicRecords().filter((r) => {
      const source = r.reblogOf;
      if (source !== null && !options.reblogsInTagTimelines) return false;
      if ((local && !r.local) || (remote && r.local)) return false;
      return (source ?? r).tags.has(tag);
    });
    const page = pageRequest(request.query, 20);
    const statuses = paginateById(tagged, page);
    const kept = (['limit', 'local', 'remote', 'only_media'] as const).flatMap((key) => {
      const value = request.query.get(key);
      return value === null ? [] : [[key, value] as const];
    });
    const link = linkHeader(baseUrl, request.path, statuses, kept);
    return {
      status: 200,
      body: statuses.map(view),
      ...(link === undefined ? {} : { headers: { link } }),
    };
  };

  /**
   * Mastodon 4.x full-text search, best effort like the real thing: newest first, `min_id` and
   * `max_id` turned into the `after:`/`before:` date operators (whole seconds of the id's timestamp,
   * so statuses from the same second as `min_id` come back again), `offset` for further pages.
   */
  const searchV2: RouteHandler = (request) => {
    const q = (request.query.get('q') ?? '').trim().toLowerCase();
    const type = request.query.get('type');
    const limit = Math.min(Math.abs(Number.parseInt(request.query.get('limit') ?? '20', 10)) || 20, 40);
    const offset =
      type === null ? 0 : Math.max(0, Number.parseInt(request.query.get('offset') ?? '0', 10) || 0);
    const second = (id: bigint) => (id >> 16n) / 1000n;
    const minId = parseId(request.query.get('min_id'));
    const maxId = parseId(request.query.get('max_id'));
    const refused = searchRefusesIds ? (minId ?? maxId) : null;
    if (refused !== null) {
      const at = new Date(Number(refused >> 16n)).toISOString().replace(/\.\d{3}Z$/u, 'Z');
      return error(422, `Invalid date ${at}`);
    }
    let statuses: MastodonStatusJson[] = [];
    if (q !== '' && (type === null || type === 'statuses')) {
      statuses = records
        .filter((r) => r.reblogOf === null && (r.visibility === 'public' || r.visibility === 'unlisted'))
        .filter((r) => r.text.toLowerCase().includes(q))
        .filter((r) => minId === null || r.id >> 16n > second(minId) * 1000n)
        .filter((r) => maxId === null || second(r.id) < second(maxId))
        .reverse()
        .slice(offset, offset + limit)
        .map(view);
    }
    return { status: 200, body: { accounts: [], statuses, hashtags: [] } };
  };

  const listNotifications: RouteHandler = (request) => {
    const types = request.query.getAll('types[]');
    const excluded = request.query.getAll('exclude_types[]');
    const accountId = request.query.get('account_id');
    const shown = notifications.filter(
      (n) =>
        (types.length === 0 || types.includes(n.type)) &&
        !excluded.includes(n.type) &&
        (accountId === null || n.account.json.id === accountId),
    );
    const page = pageRequest(request.query, 40);
    const found = paginateById(shown, page);
    const kept = [
      ...(request.query.get('limit') === null
        ? []
        : [['limit', request.query.get('limit') as string] as const]),
      ...types.map((t) => ['types[]', t] as const),
      ...excluded.map((t) => ['exclude_types[]', t] as const),
      ...(accountId === null ? [] : [['account_id', accountId] as const]),
    ];
    const link = linkHeader(baseUrl, request.path, found, kept);
    return {
      status: 200,
      body: found.map(notificationJson),
      ...(link === undefined ? {} : { headers: { link } }),
    };
  };

  const createStatus: RouteHandler = (request) => {
    const body = request.body;
    if ('__unparseable' in body) return error(400, 'Error occurred while parsing request parameters');
    const text = typeof body.status === 'string' ? body.status : '';
    const inReplyToId =
      typeof body.in_reply_to_id === 'string' && body.in_reply_to_id !== '' ? body.in_reply_to_id : null;
    const requested = typeof body.visibility === 'string' ? body.visibility : null;
    const spoiler = typeof body.spoiler_text === 'string' ? body.spoiler_text : '';
    const thread = inReplyToId === null ? undefined : byId.get(inReplyToId);
    if (inReplyToId !== null && thread === undefined) {
      return error(404, 'The post you are trying to reply to does not appear to exist.');
    }
    if (inReplyToId !== null && replyRestricted) return error(403, 'This action is not allowed');
    const key = request.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' && key !== '' ? key : null;
    if (idempotencyKey !== null) {
      const seen = idempotency.get(idempotencyKey);
      const existing = seen !== undefined && seen.expiresAt > Date.now() ? byId.get(seen.id) : undefined;
      if (existing !== undefined) return { status: 200, body: view(existing) };
    }
    if (requested !== null && !VISIBILITIES.includes(requested as MastodonVisibility)) {
      return error(422, 'Validation failed: Visibility is not included in the list');
    }
    if (text.trim() === '') return error(422, "Validation failed: Text can't be blank");
    if (countMastodonLength(text) + (spoiler === '' ? 0 : countGraphemes(spoiler)) > maxCharacters) {
      return error(422, `Validation failed: Text character limit of ${maxCharacters} exceeded`);
    }
    const record = store({
      text,
      author: { handle: own.username },
      ...(thread === undefined ? {} : { inReplyTo: thread.json.id }),
      visibility: (requested as MastodonVisibility | null) ?? 'public',
      local: true,
      ...(spoiler === '' ? {} : { spoilerText: spoiler }),
      ...(typeof body.language === 'string' ? { lang: body.language } : {}),
    });
    if (idempotencyKey !== null) {
      idempotency.set(idempotencyKey, { id: record.json.id, expiresAt: Date.now() + IDEMPOTENCY_TTL_MS });
    }
    if (thread !== undefined) {
      replyLog.push({
        id: record.json.id,
        inReplyTo: thread.json.id,
        text,
        idempotencyKey,
        visibility: requested,
        createdAt: record.json.created_at,
      });
    }
    return { status: 200, body: view(record) };
  };

  const instance = () => ({
    domain,
    title: 'kikimimi sandbox',
    version,
    source_url: 'https://github.com/mastodon/mastodon',
    description: 'A local stand-in for a Mastodon server',
    usage: { users: { active_month: accounts.size } },
    thumbnail: { url: `https://${domain}/packs/media/images/preview.png` },
    icon: [],
    languages: ['ja', 'en'],
    configuration: {
      urls: { streaming: streamingUrl, status: null },
      vapid: { public_key: '' },
      accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
      statuses: { max_characters: maxCharacters, max_media_attachments: 4, characters_reserved_per_url: 23 },
      media_attachments: {
        supported_mime_types: ['image/jpeg', 'image/png'],
        image_size_limit: 16777216,
        image_matrix_limit: 33177600,
        video_size_limit: 103809024,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8294400,
      },
      polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 },
      translation: { enabled: false },
    },
    registrations: { enabled: false, approval_required: false, message: null },
    api_versions: { mastodon: 7 },
    contact: { email: `admin@${domain}`, account: null },
    rules: [],
  });

  /** Stores a status (rendering its HTML), adds a mention notification, and streams it. */
  function store(input: MastodonPostInput): StatusRecord {
    const author = accountFor(input.author.handle, input.author);
    const created = input.createdAt === undefined ? new Date() : new Date(input.createdAt);
    const visibility = input.visibility ?? 'public';
    const local = input.local ?? author.local;
    // (A post created within the last second counts as arriving on time: generated posts stamped
    // "now" a moment before they are added keep increasing ids.)
    const id = !local && created.getTime() < Date.now() - 1000 ? backdatedId(created) : nextStatusId();
    const idText = id.toString();
    const username = author.json.username;
    const reblogOf = input.repostOf === undefined ? null : (byId.get(input.repostOf) ?? null);
    if (input.repostOf !== undefined && reblogOf === null)
      throw new Error(`no status ${input.repostOf} to reblog`);
    const source = reblogOf?.reblogOf ?? reblogOf;

    const mentioned = (input.mentions ?? mentionsIn(input.text)).map((handle) => accountFor(handle, null));
    const tagNames = reblogOf === null ? (input.hashtags ?? hashtagsIn(input.text)) : [];
    const thread = input.inReplyTo === undefined ? undefined : byId.get(input.inReplyTo);
    const resolveMention = (acct: string) => {
      const found = mentioned.find((m) => m.json.acct.toLowerCase() === acct.toLowerCase());
      return found === undefined ? undefined : { url: found.json.url, username: found.json.username };
    };
    const content =
      reblogOf !== null ? '' : (input.html ?? formatStatusHtml(input.text, { domain, resolveMention }));
    const statusPath = `users/${username}/statuses/${idText}`;
    const json: MastodonStatusJson = {
      id: idText,
      created_at: created.toISOString(),
      in_reply_to_id: thread?.json.id ?? input.inReplyTo ?? null,
      in_reply_to_account_id: thread?.json.account.id ?? null,
      sensitive: input.spoilerText !== undefined,
      spoiler_text: input.spoilerText ?? '',
      visibility,
      language: reblogOf === null ? (input.lang ?? null) : null,
      // A reblog is an Announce activity: its URI ends in /activity, and only local ones have a url.
      uri:
        reblogOf === null
          ? `https://${author.host}/${statusPath}`
          : `https://${author.host}/${statusPath}/activity`,
      url:
        reblogOf === null
          ? `https://${author.host}/@${username}/${idText}`
          : local
            ? `https://${author.host}/${statusPath}/activity`
            : null,
      replies_count: 0,
      reblogs_count: 0,
      favourites_count: 0,
      edited_at: null,
      favourited: false,
      reblogged: false,
      muted: false,
      bookmarked: false,
      content,
      filtered: [],
      reblog: source?.json ?? null,
      ...(local ? { application: { name: 'Web', website: null } } : {}),
      account: author.json,
      media_attachments: [],
      mentions:
        reblogOf === null
          ? mentioned.map((m) => ({
              id: m.json.id,
              username: m.json.username,
              url: m.json.url,
              acct: m.json.acct,
            }))
          : [],
      tags: tagNames.map((name) => ({
        name: name.toLowerCase(),
        url: `https://${domain}/tags/${encodeURIComponent(name.toLowerCase())}`,
      })),
      emojis: [],
      card: null,
      poll: null,
    };
    author.json = {
      ...author.json,
      statuses_count: author.json.statuses_count + 1,
      last_status_at: json.created_at.slice(0, 10),
    };
    const record: StatusRecord = {
      id,
      json,
      author,
      favourites: [],
      reblogs: [],
      text: reblogOf === null ? input.text : (source?.text ?? ''),
      tags: new Set(tagNames.map(normalizeTagName)),
      visibility,
      local,
      reblogOf: source,
    };
    // Kept sorted by id (oldest first): a late remote status goes in below newer ones.
    let at = records.length;
    while (at > 0 && (records[at - 1] as StatusRecord).id > id) at--;
    records.splice(at, 0, record);
    byId.set(idText, record);

    if (reblogOf === null && thread !== undefined) {
      thread.json = { ...thread.json, replies_count: thread.json.replies_count + 1 };
    }
    if (source !== null) {
      source.reblogs.push({ id: nextActionId++, account: author });
      source.json = {
        ...source.json,
        reblogs_count: source.json.reblogs_count + 1,
        reblogged: source.json.reblogged || author === ownRecord,
      };
      if (source.author === ownRecord) notify('reblog', author, source);
    }
    if (reblogOf === null && mentioned.includes(ownRecord)) notify('mention', author, record);
    // FanOutOnWriteService only streams public, non-reblog statuses to public and hashtag streams.
    if (streamed(record)) streams.broadcast({ json, tags: record.tags, local });
    return record;
  }

  // FanOutOnWriteService and RemoveStatusService only stream public, non-reblog statuses.
  const streamed = (record: StatusRecord) => record.visibility === 'public' && record.reblogOf === null;

  function edit(idText: string, change: MastodonPostEdit): void {
    const record = byId.get(idText);
    if (record === undefined || record.reblogOf !== null) throw new Error(`no status ${idText} to edit`);
    const tagNames = change.hashtags ?? hashtagsIn(change.text);
    const mentioned = record.json.mentions;
    const resolveMention = (acct: string) => {
      const found = mentioned.find((m) => m.acct.toLowerCase() === acct.toLowerCase());
      return found === undefined ? undefined : { url: found.url, username: found.username };
    };
    record.json = {
      ...record.json,
      content: change.html ?? formatStatusHtml(change.text, { domain, resolveMention }),
      spoiler_text: change.spoilerText ?? record.json.spoiler_text,
      sensitive: (change.spoilerText ?? record.json.spoiler_text) !== '',
      edited_at: new Date().toISOString(),
      tags: tagNames.map((name) => ({
        name: name.toLowerCase(),
        url: `https://${domain}/tags/${encodeURIComponent(name.toLowerCase())}`,
      })),
    };
    record.text = change.text;
    record.tags = new Set(tagNames.map(normalizeTagName));
    if (streamed(record))
      streams.broadcast({ json: record.json, tags: record.tags, local: record.local }, 'status.update');
  }

  function remove(idText: string): void {
    const record = byId.get(idText);
    if (record === undefined) throw new Error(`no status ${idText} to delete`);
    byId.delete(idText);
    records.splice(records.indexOf(record), 1);
    for (let i = notifications.length - 1; i >= 0; i--) {
      if (notifications[i]?.status === record) notifications.splice(i, 1);
    }
    if (streamed(record))
      streams.broadcast({ json: record.json, tags: record.tags, local: record.local }, 'delete');
  }

  const routes = [
    route('GET', '/api/v2/instance', 'none', () => ({ status: 200, body: instance() })),
    route('GET', '/api/v1/accounts/verify_credentials', 'user', () => ({
      status: 200,
      body: {
        ...ownRecord.json,
        source: {
          privacy: 'public',
          sensitive: false,
          language: '',
          note: '',
          fields: [],
          follow_requests_count: 0,
          hide_collections: false,
          discoverable: true,
          indexable: true,
        },
        role: { id: '-99', name: '', permissions: '0', color: '', highlighted: false },
      },
    })),
    route('GET', '/api/v1/timelines/tag/:hashtag', 'optional', timelineTag),
    route('GET', '/api/v2/search', 'user', searchV2),
    route('GET', '/api/v1/notifications', 'user', listNotifications),
    route('GET', '/api/v1/notifications/:id', 'user', (request) => {
      const found = notifications.find((n) => n.id.toString() === request.params.id);
      return found === undefined
        ? error(404, 'Record not found')
        : { status: 200, body: notificationJson(found) };
    }),
    route('GET', '/api/v1/statuses/:id/context', 'optional', context),
    route('GET', '/api/v1/statuses/:id/favourited_by', 'optional', actors('favourites')),
    route('GET', '/api/v1/statuses/:id/reblogged_by', 'optional', actors('reblogs')),
    route('POST', '/api/v1/statuses', 'user', createStatus),
    route('GET', '/api/v1/statuses/:id', 'optional', (request) => {
      const found = byId.get(request.params.id ?? '');
      return found === undefined ? error(404, 'Record not found') : { status: 200, body: view(found) };
    }),
    {
      method: 'GET',
      path: '/api/v1/streaming/health',
      handler: () => ({ status: 200, body: 'OK', headers: { 'content-type': 'text/plain; charset=utf-8' } }),
    },
  ];

  const running = await startHttpServer({
    routes,
    faults,
    rateLimited: (resetInSeconds) =>
      error(429, 'Too many requests', {
        'x-ratelimit-limit': String(rateLimit.limit),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': isoMicros(new Date(Date.now() + resetInSeconds * 1000)),
      }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  baseUrl = running.url;
  const streamingUrl = running.url.replace(/^http/u, 'ws');
  const streams = createStreamHub({ server: running.server, isValidToken: (token) => token === accessToken });

  return {
    url: running.url,
    streamingUrl,
    accessToken,
    domain,
    get account() {
      return ownRecord.json;
    },
    faults,
    addPost: (input) => store(input).json.id,
    addReply(inReplyToId, input) {
      const target = byId.get(inReplyToId);
      if (target === undefined) throw new Error(`mastodon sandbox: no status ${inReplyToId} to reply to`);
      const acct = target.author.json.acct;
      // `@name@our.domain` names a local account as well as `@name` does.
      const local = (handle: string) => {
        const name = handle.replace(/^@/u, '').toLowerCase();
        const suffix = `@${domain.toLowerCase()}`;
        return name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
      };
      const mentioned = (input.mentions ?? mentionsIn(input.text)).some((h) => local(h) === local(acct));
      const text = mentioned ? input.text : `@${acct} ${input.text}`;
      const { mentions, ...rest } = input;
      return store({
        ...rest,
        text,
        inReplyTo: inReplyToId,
        ...(mentions === undefined ? {} : { mentions: mentioned ? mentions : [acct, ...mentions] }),
      }).json.id;
    },
    favourite(statusId, authorInput) {
      const target = byId.get(statusId);
      if (target === undefined) throw new Error(`mastodon sandbox: no status ${statusId} to favourite`);
      const author = accountFor(authorInput.handle, authorInput);
      if (target.favourites.some((f) => f.account === author)) return;
      target.favourites.push({ id: nextActionId++, account: author });
      target.json = {
        ...target.json,
        favourites_count: target.json.favourites_count + 1,
        favourited: target.json.favourited || author === ownRecord,
      };
      if (target.author === ownRecord) notify('favourite', author, target);
    },
    reblog: (statusId, author) => store({ text: '', author, repostOf: statusId }).json.id,
    editPost: edit,
    deletePost: remove,
    replies: () => [...replyLog],
    statuses: () => records.map(view),
    dropStreams: () => streams.dropAll(),
    sendStreamFrame: (data) => streams.sendRaw(data),
    get streamConnections() {
      return streams.connections;
    },
    setMaxCharacters(value) {
      maxCharacters = value;
    },
    setReplyRestricted(restricted) {
      replyRestricted = restricted;
    },
    resetRateLimit() {
      window.start = 0;
      window.count = 0;
    },
    requestCount: (path) =>
      path === undefined ? requestPaths.length : requestPaths.filter((p) => p.startsWith(path)).length,
    async close() {
      await streams.close();
      await running.close();
    },
  };
}
