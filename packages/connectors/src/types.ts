import type { Platform, Post } from '@kikimimi/rules';

/**
 * A way to listen on a platform, as plain data so it can travel in a job payload. `key` is stable
 * and unique per platform account: it names the source's cursor and its job scheduler.
 */
export type PollSource =
  | { readonly platform: 'x'; readonly kind: 'search'; readonly key: string; readonly query: string }
  | { readonly platform: 'mastodon'; readonly kind: 'hashtag'; readonly key: string; readonly tag: string }
  | { readonly platform: 'mastodon'; readonly kind: 'search'; readonly key: string; readonly query: string }
  | { readonly platform: 'mastodon'; readonly kind: 'mentions'; readonly key: string }
  /** Bluesky `app.bsky.feed.searchPosts` (sort=latest); `lang` narrows to one declared language. */
  | {
      readonly platform: 'bluesky';
      readonly kind: 'search';
      readonly key: string;
      readonly query: string;
      readonly lang?: string;
    };

export interface MastodonStreamSource {
  readonly platform: 'mastodon';
  readonly kind: 'stream';
  readonly key: string;
  readonly stream: 'public' | 'public:local' | 'hashtag';
  readonly tag?: string;
}

export type StreamSource =
  | MastodonStreamSource
  /** Every post on the network (the connector's relay): the matcher picks the ones that matter. */
  | { readonly platform: 'bluesky'; readonly kind: 'firehose'; readonly key: string };

export type Source = PollSource | StreamSource;

/** What the platform said about its rate limit in the last response. */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetAt: Date;
}

/** A post the connector could not normalise: skipped, with the reason, never a crash. */
export interface RejectedItem {
  readonly id: string | null;
  readonly reason: string;
}

export interface PollOptions {
  /** Most pages to fetch in this poll (default 5); a larger burst continues at the next poll. */
  readonly pageBudget?: number;
  /** Posts per page (X: 10–100, Mastodon: ≤ 40). */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

export interface PollResult {
  /** New posts, oldest first, each once. */
  readonly posts: readonly Post[];
  /**
   * Opaque cursor to store once the posts are safely handed on; pass it to the next poll. Never
   * moves past a post that was not returned.
   */
  readonly cursor: string | null;
  /** True when the poll reached the previous cursor (or the end); false when the page budget ran out first. */
  readonly caughtUp: boolean;
  readonly pages: number;
  /** Posts read from the platform (X bills per post read). */
  readonly postsRead: number;
  readonly rateLimit: RateLimitState | null;
  readonly rejected: readonly RejectedItem[];
  /**
   * Set when the platform refused the stored cursor as too old (X: a `since_id` outside recent
   * search's seven days) and the poll started again at `from`: posts between the old cursor and
   * `from` can no longer be read. `reason` is the platform's own message.
   */
  readonly restarted?: { readonly from: Date; readonly reason: string };
}

/** The post being answered. */
export interface ReplyTarget {
  readonly postId: string;
  readonly url: string;
  readonly authorHandle: string;
}

export interface ReplyOptions {
  /** Same key → same reply, never a second one (the platform's idempotency where it has one). */
  readonly idempotencyKey: string;
  /** Mastodon: public, unlisted, private or direct (default: unlisted). */
  readonly visibility?: 'public' | 'unlisted' | 'private' | 'direct';
}

export interface ReplyResult {
  readonly id: string;
  readonly url: string;
}

/** The account a connector acts as. */
export interface AccountIdentity {
  readonly platform: Platform;
  readonly id: string;
  readonly handle: string;
  readonly displayName: string;
}

export interface StreamOptions {
  readonly signal: AbortSignal;
  /**
   * Where to resume: the `cursor` of the last event handed on (Bluesky). Absent: from now. Streams
   * without cursors (Mastodon) ignore it.
   */
  readonly cursor?: string | null;
  /** Called on connection state changes (for logs and metrics). */
  readonly onState?: (state: 'connecting' | 'open' | 'reconnecting' | 'closed', detail?: string) => void;
}

/** What a server says about itself, for "test connection" and the console (Mastodon). */
export interface InstanceInfo {
  readonly platform: Platform;
  readonly domain: string;
  /** The version string as the server reports it ("4.3.1", "4.3.0+glitch", "2.7.2 (compatible; Pleroma …)"). */
  readonly version: string;
  /** The longest reply it accepts, in its own counting. */
  readonly maxCharacters: number;
  readonly search: {
    /**
     * Whether text search finds posts. Mastodon does not say: it needs a full-text index
     * (Elasticsearch/OpenSearch) that the API does not advertise, and even then finds only posts of
     * accounts that opted in to search, plus the searcher's own. Watches should use hashtags there.
     */
    readonly fullText: 'unknown';
    /** 4.3.0–4.3.1 refuse `min_id`/`max_id` on search (422 "Invalid date"); the connector then filters itself. */
    readonly idBoundsRefused: boolean;
  };
  /** Who may read remote hashtag timelines (4.5+: `public`, `authenticated`, `disabled`); null when not reported. */
  readonly hashtagTimelines: string | null;
}

/**
 * What a stream reports: a new post; a post its author edited (`post` is the whole post as it now
 * reads, same id); or a post its author deleted. Only streams report edits and deletions: polling
 * reads each post once.
 */
export type StreamEvent = (
  | { readonly kind: 'post'; readonly post: Post }
  | { readonly kind: 'edit'; readonly post: Post }
  | { readonly kind: 'delete'; readonly platform: Platform; readonly postId: string }
) & {
  /**
   * Bluesky: store it once the event is handed on and pass it as StreamOptions.cursor to resume
   * right after this event, without loss or repeats. Absent on streams that cannot resume.
   */
  readonly cursor?: string;
};

/**
 * What people did with the account's own posts: answered one (a post whose `inReplyTo` is our post's
 * id) or liked / reposted one. What the conversations follow after a reply.
 */
export type ActivityItem =
  | { readonly kind: 'answer'; readonly post: Post }
  | {
      readonly kind: 'like' | 'repost';
      /** Our post they reacted to. */
      readonly postId: string;
      readonly author: { readonly id: string; readonly handle: string };
      readonly at: Date;
    };

export interface ActivityResult {
  /** Oldest first, each once. */
  readonly items: readonly ActivityItem[];
  /** Opaque; pass it to the next call. */
  readonly cursor: string | null;
  /**
   * False when more arrived since the last call than the page budget reads: the oldest of them were
   * skipped (X's mention timeline pages newest first) or wait for the next call (Mastodon).
   */
  readonly caughtUp: boolean;
  readonly requests: number;
  /** Posts read (X bills per post read). */
  readonly postsRead: number;
  readonly rateLimit: RateLimitState | null;
  readonly rejected: readonly RejectedItem[];
}

/** Everything kikimimi needs from a platform. One implementation per platform folder. */
export interface Connector {
  readonly platform: Platform;
  poll(source: PollSource, cursor: string | null, options?: PollOptions): Promise<PollResult>;
  /** Yields posts, edits and deletions as they arrive; reconnects with backoff on its own until the signal aborts. */
  stream?(source: StreamSource, options: StreamOptions): AsyncIterable<StreamEvent>;
  reply(target: ReplyTarget, text: string, options: ReplyOptions): Promise<ReplyResult>;
  /**
   * Posts a status of the account's own, not an answer to anyone (a surge's announcement). The same
   * idempotency key gives the same post back, never a second one. Mastodon: public by default.
   */
  post(text: string, options: ReplyOptions): Promise<ReplyResult>;
  /**
   * Answers to and reactions on the account's own posts since `cursor` (null: from now — only the
   * newest page). One call covers every followed conversation of the account, however many there are.
   */
  activity?(
    cursor: string | null,
    options?: { readonly pageBudget?: number; readonly signal?: AbortSignal },
  ): Promise<ActivityResult>;
  verifyCredentials(): Promise<AccountIdentity>;
  /** The longest reply the platform accepts, in its own counting (Mastodon: per instance). */
  maxReplyLength(): Promise<number>;
  /** The server's version and search capability (Mastodon; X has one API for everyone). */
  describeInstance?(): Promise<InstanceInfo>;
}
