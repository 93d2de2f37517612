import type { Config, Decision, Post } from '@kikimimi/rules';
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Actor } from './types.ts';

/*
 * The system of record. Platform names are plain text (validated by the rules' platform schema at the
 * edge), so adding a platform needs no migration. Workflow states are checked here because a row in an
 * unknown state is a bug wherever it comes from.
 *
 * Foreign keys point only from operational rows to the rows they cannot live without; history (usage,
 * replies, contacts, audit) keeps a removed account's id rather than losing the record.
 */

const createdAt = (name = 'created_at') => timestamp(name, { withTimezone: true }).notNull().defaultNow();

/** A connected X or Mastodon account; `credentials_encrypted` is `v1:<iv>:<tag>:<ciphertext>` (see crypto.ts). */
export const platformAccounts = pgTable(
  'platform_accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: text('platform').notNull(),
    label: text('label').notNull(),
    baseUrl: text('base_url'),
    streamingUrl: text('streaming_url'),
    handle: text('handle'),
    accountId: text('account_id'),
    credentialsEncrypted: text('credentials_encrypted').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    demo: boolean('demo').notNull().default(false),
    pollIntervalSeconds: integer('poll_interval_seconds').notNull().default(60),
    streamEnabled: boolean('stream_enabled').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [
    unique('platform_accounts_platform_label_key').on(t.platform, t.label),
    check('platform_accounts_credentials_format', sql`${t.credentialsEncrypted} LIKE 'v1:%'`),
    check('platform_accounts_poll_interval_positive', sql`${t.pollIntervalSeconds} > 0`),
  ],
);

/** Cursor and platform feedback for one source (a search query, a hashtag, …) of one account. */
export const sourceStates = pgTable(
  'source_states',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => platformAccounts.id, { onDelete: 'cascade' }),
    sourceKey: text('source_key').notNull(),
    cursor: text('cursor'),
    lastPolledAt: timestamp('last_polled_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    rateLimitRemaining: integer('rate_limit_remaining'),
    rateLimitLimit: integer('rate_limit_limit'),
    rateLimitResetAt: timestamp('rate_limit_reset_at', { withTimezone: true }),
    notBefore: timestamp('not_before', { withTimezone: true }),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  },
  (t) => [primaryKey({ name: 'source_states_pkey', columns: [t.accountId, t.sourceKey] })],
);

/** What each account cost per UTC day: X bills posts read, every platform limits requests. */
export const usageDaily = pgTable(
  'usage_daily',
  {
    accountId: uuid('account_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    postsRead: integer('posts_read').notNull().default(0),
    requests: integer('requests').notNull().default(0),
    replies: integer('replies').notNull().default(0),
  },
  (t) => [primaryKey({ name: 'usage_daily_pkey', columns: [t.accountId, t.day] })],
);

/** Append-only: the current configuration is the row with the highest version. */
export const configVersions = pgTable('config_versions', {
  version: serial('version').primaryKey(),
  config: jsonb('config').$type<Config>().notNull(),
  actor: jsonb('actor').$type<Actor>().notNull(),
  createdAt: createdAt(),
});

/** A single row (id = 1) holding the Discord bindings. */
export const discordSettings = pgTable(
  'discord_settings',
  {
    id: integer('id').primaryKey(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [check('discord_settings_single_row', sql`${t.id} = 1`)],
);

/** The latest profile seen of each author. */
export const authors = pgTable(
  'authors',
  {
    platform: text('platform').notNull(),
    authorId: text('author_id').notNull(),
    handle: text('handle').notNull(),
    displayName: text('display_name').notNull().default(''),
    followers: integer('followers'),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [primaryKey({ name: 'authors_pkey', columns: [t.platform, t.authorId] })],
);

/** Every post fetched, matched or not: the deduplication record of ingest. */
export const posts = pgTable(
  'posts',
  {
    platform: text('platform').notNull(),
    postId: text('post_id').notNull(),
    /** The account whose source fetched it first (null: imported). */
    accountId: uuid('account_id'),
    url: text('url').notNull(),
    authorId: text('author_id').notNull(),
    text: text('text').notNull(),
    lang: text('lang'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    post: jsonb('post').$type<Post>().notNull(),
    fetchedAt: createdAt('fetched_at'),
    /** When kikimimi learnt of the author's last edit (`post` and `text` are the edited version). */
    editedAt: timestamp('edited_at', { withTimezone: true }),
    /** When kikimimi learnt that the author deleted it. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'posts_pkey', columns: [t.platform, t.postId] }),
    // Author first: an index led by platform alone could serve (badly) the matches → posts foreign-key
    // check on tables PostgreSQL has not analysed yet (a fresh install), slowing ingest ~4× (measured).
    index('posts_author_idx').on(t.authorId, t.platform),
    // Newest stored posts, for watch previews. DESC NULLS FIRST is what ORDER BY … DESC means (see matches).
    index('posts_created_idx').on(t.createdAt.desc().nullsFirst(), t.postId.desc().nullsFirst()),
    index('posts_platform_created_idx').on(
      t.platform,
      t.createdAt.desc().nullsFirst(),
      t.postId.desc().nullsFirst(),
    ),
  ],
);

export const MATCH_STATUSES = [
  'new',
  'suppressed',
  'replied',
  'manual_pending',
  'escalated',
  'dismissed',
  /** Its author deleted the post before anyone answered it: closed. */
  'deleted',
] as const;

export const CASE_STATES = ['open', 'waiting', 'resolved'] as const;

/** A post that matched a watch, with the rules' decision and where it stands in the review. */
export const matches = pgTable(
  'matches',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    platform: text('platform').notNull(),
    postId: text('post_id').notNull(),
    accountId: uuid('account_id'),
    watches: text('watches').array().notNull(),
    intent: text('intent').notNull(),
    category: text('category'),
    priority: text('priority').notNull(),
    reviewChannel: text('review_channel').notNull(),
    decision: jsonb('decision').$type<Extract<Decision, { matched: true }>>().notNull(),
    suppressed: boolean('suppressed').notNull(),
    suppressionReasons: text('suppression_reasons').array().notNull().default(sql`'{}'::text[]`),
    /** An escalation rule fired, or a reviewer escalated it: the inbox's "escalated" filter. */
    escalated: boolean('escalated').notNull().default(false),
    status: text('status').notNull(),
    createdAt: createdAt(),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
    /**
     * The case (the conversation with this person about this matter): open (our move), waiting (for
     * the customer, after our reply) or resolved. Moves on its own (a reply sent → waiting; a thankful
     * answer → resolved; an unhappy answer or a new question → open) and by hand.
     */
    caseState: text('case_state').notNull().default('open'),
    /** Who took the case (a console user or a Discord member); null: nobody yet. */
    assignee: jsonb('assignee').$type<Actor>(),
    /** Until when the customer's answers to our replies are followed (null: not followed). */
    followUntil: timestamp('follow_until', { withTimezone: true }),
    /** The surge this match is part of (reviewed together with it, not on its own); null: none. */
    surgeId: text('surge_id').references(() => surges.id),
    /** Waiting for the surge detector's verdict: the sweeper leaves its review message to the detector. */
    surgePending: boolean('surge_pending').notNull().default(false),
    /**
     * Held for a surge (one forming around it, the flood of its intent, or its intent flooded just after
     * it was handed on): its review message waits until then, so the surge can take it in. Released
     * early, it is set to the release time: not null means "was held for a surge", and a match held so
     * that the surge did not take in is reviewed in the surge's thread (null: never held).
     */
    surgeHoldUntil: timestamp('surge_hold_until', { withTimezone: true }),
    /**
     * Judged while a surge looked to be forming around it (a group of near-duplicates coming fast, or
     * the flood of its intent) and not held for it (`holdSeconds` 0): most likely the flood's, its
     * review goes after the other reviews waiting in its channel (reviews.formGroup) — an outage's
     * first posts, before the surge exists, would otherwise be ahead of every everyday match there.
     */
    surgeLikely: boolean('surge_likely').notNull().default(false),
  },
  (t) => [
    unique('matches_platform_post_id_key').on(t.platform, t.postId),
    index('matches_surge_idx').on(t.surgeId, t.createdAt),
    foreignKey({
      name: 'matches_post_fkey',
      columns: [t.platform, t.postId],
      foreignColumns: [posts.platform, posts.postId],
    }),
    check('matches_status_known', sql.raw(`status IN (${MATCH_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    check(
      'matches_case_state_known',
      sql.raw(`case_state IN (${CASE_STATES.map((s) => `'${s}'`).join(', ')})`),
    ),
    // The follower's work list: cases still followed.
    index('matches_follow_until_idx').on(t.followUntil),
    // Keyset paging orders by (created_at, id); the id makes each index serve it without a sort. The
    // order must be exactly the queries' `ORDER BY created_at DESC, id DESC`, which PostgreSQL reads as
    // DESC NULLS FIRST: drizzle's bare .desc() writes DESC NULLS LAST, an order such a query cannot
    // use (NOT NULL does not matter to the planner), and every inbox page sorted the whole table
    // (100,000 matches: 90–230 ms a page, apps/web/bench/console-bench.ts).
    index('matches_status_created_idx').on(
      t.status,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('matches_created_idx').on(t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('matches_platform_created_idx').on(
      t.platform,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // The inbox's case filters: by case state, and by who took the case (console users by id).
    index('matches_case_state_created_idx').on(
      t.caseState,
      t.createdAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('matches_assignee_created_idx')
      .on(
        sql`(${t.assignee}->>'kind')`,
        sql`(${t.assignee}->>'id')`,
        t.createdAt.desc().nullsFirst(),
        t.id.desc().nullsFirst(),
      )
      .where(sql`${t.assignee} IS NOT NULL`),
    index('matches_intent_idx').on(t.intent),
    index('matches_watches_idx').using('gin', t.watches),
  ],
);

/**
 * The one Discord review message of a match; `nonce` makes a re-post after a crash a no-op. In a
 * surge's thread several reviews share one message: their rows share channel and nonce (the nonce of
 * the match whose job sent it), and `grouped_at` says when they were taken into it.
 */
export const reviewMessages = pgTable(
  'review_messages',
  {
    matchId: uuid('match_id')
      .primaryKey()
      .references(() => matches.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    messageId: text('message_id'),
    nonce: text('nonce').notNull(),
    groupedAt: timestamp('grouped_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [
    // A teammate's message in a case thread finds its match by the thread's id (= the message's).
    index('review_messages_message_idx').on(t.messageId),
    // A group's members, and the reviews still waiting for a place in a thread's next message.
    index('review_messages_channel_nonce_idx').on(t.channelId, t.nonce),
  ],
);

export const DECISION_KINDS = ['reply', 'manual_reply', 'escalate', 'dismiss', 'refused'] as const;

/** What reviewers decided (and tried to decide) about a match. */
export const reviewDecisions = pgTable(
  'review_decisions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    matchId: uuid('match_id')
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    actor: jsonb('actor').$type<Actor>().notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('review_decisions_match_idx').on(t.matchId, t.at),
    // Dashboard: decisions of a kind in a period.
    index('review_decisions_kind_at_idx').on(t.kind, t.at),
    check(
      'review_decisions_kind_known',
      sql.raw(`kind IN (${DECISION_KINDS.map((s) => `'${s}'`).join(', ')})`),
    ),
  ],
);

export const REPLY_STATES = ['pending', 'sent', 'failed', 'manual_pending', 'manual_done'] as const;

/**
 * The public replies of a match's case: the exactly-once record of each. `seq` 1 is the reply to the
 * matched post; later ones are follow-ups, each answering one post of the customer (`target_post_id`),
 * at most one per post.
 */
export const replies = pgTable(
  'replies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    matchId: uuid('match_id')
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull().default(1),
    /** The post a follow-up answers (null: the matched post), with what the connector needs to reply to it. */
    targetPostId: text('target_post_id'),
    targetUrl: text('target_url'),
    targetHandle: text('target_handle'),
    accountId: uuid('account_id').notNull(),
    text: text('text').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    state: text('state').notNull().default('pending'),
    platformReplyId: text('platform_reply_id'),
    url: text('url'),
    manualUrl: text('manual_url'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    createdBy: jsonb('created_by').$type<Actor>().notNull(),
    createdAt: createdAt(),
    updatedAt: createdAt('updated_at'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** A paced reply (to a surge's member) is not sent before this time; null: at once. */
    dueAt: timestamp('due_at', { withTimezone: true }),
  },
  (t) => [
    unique('replies_match_seq_key').on(t.matchId, t.seq),
    // The pacing of replies to a surge's members: the latest slot taken on each account.
    index('replies_account_due_idx').on(t.accountId, t.dueAt).where(sql`${t.dueAt} IS NOT NULL`),
    // One follow-up per post of the customer, whoever presses the button twice.
    unique('replies_match_target_key').on(t.matchId, t.targetPostId),
    unique('replies_idempotency_key_key').on(t.idempotencyKey),
    index('replies_sent_at_idx').on(t.sentAt),
    // The follower finds which of our replies a customer answered (or liked).
    index('replies_account_platform_reply_idx').on(t.accountId, t.platformReplyId),
    check('replies_state_known', sql.raw(`state IN (${REPLY_STATES.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

/** People our accounts replied to: feeds the author cooldown. */
export const contacts = pgTable(
  'contacts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    platform: text('platform').notNull(),
    authorId: text('author_id').notNull(),
    handle: text('handle').notNull(),
    /**
     * Lower-case handle without "@" and instance (`Foo@mstdn.jp` → `foo`): the key the suppression
     * policy compares across platforms (rules' `contactKeys`).
     */
    handleKey: text('handle_key').notNull(),
    matchId: uuid('match_id').references(() => matches.id, { onDelete: 'set null' }),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('contacts_author_idx').on(t.platform, t.authorId),
    index('contacts_handle_key_idx').on(t.handleKey),
    // One contact per match, whatever retries happen (NULLs stay distinct).
    unique('contacts_match_id_key').on(t.matchId),
  ],
);

/**
 * One person's accounts on several platforms, linked by a reviewer (an X and a Mastodon identity of the
 * same customer): identities with the same `person_id` are one person for the case history.
 */
export const identityLinks = pgTable(
  'identity_links',
  {
    platform: text('platform').notNull(),
    authorId: text('author_id').notNull(),
    personId: uuid('person_id').notNull(),
    linkedBy: jsonb('linked_by').$type<Actor>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'identity_links_pkey', columns: [t.platform, t.authorId] }),
    index('identity_links_person_idx').on(t.personId),
  ],
);

export const CASE_EVENT_KINDS = ['answer', 'like', 'repost', 'note', 'assigned', 'state', 'voice'] as const;

/**
 * What happened in a case after the match, besides our replies and the review decisions: the
 * customer's answers and reactions to our replies, teammates' internal notes, assignments and state
 * changes, and customer voices (ご意見: `detail.department`, the summary in `text`). `dedupe_key` makes a
 * platform event that is read twice one row (and a case a voice once per department).
 */
export const caseEvents = pgTable(
  'case_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    matchId: uuid('match_id')
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** Which of our replies it answers or reacts to. */
    replyId: uuid('reply_id'),
    /** A teammate's event (note, assignment, state); null for the customer's. */
    actor: jsonb('actor').$type<Actor>(),
    platform: text('platform'),
    postId: text('post_id'),
    url: text('url'),
    authorId: text('author_id'),
    authorHandle: text('author_handle'),
    text: text('text').notNull().default(''),
    /** The answer's post (answers only), as the connector normalised it. */
    post: jsonb('post').$type<Post>(),
    /** The rules' reading of an answer: { kind, signals, lang }. */
    classification: jsonb('classification').$type<Record<string, unknown>>(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    dedupeKey: text('dedupe_key'),
    at: timestamp('at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('case_events_match_idx').on(t.matchId, t.at),
    index('case_events_kind_at_idx').on(t.kind, t.at),
    // The effect figures: the reactions to each reply.
    index('case_events_reply_idx').on(t.replyId, t.kind),
    unique('case_events_dedupe_key').on(t.dedupeKey),
    check('case_events_kind_known', sql.raw(`kind IN (${CASE_EVENT_KINDS.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

/** Who changed what, append-only. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: createdAt('at'),
    actor: jsonb('actor').$type<Actor>().notNull(),
    action: text('action').notNull(),
    target: text('target'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    // DESC NULLS FIRST: the order of the audit list's ORDER BY at DESC, id DESC (see matches).
    index('audit_log_at_idx').on(t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('audit_log_action_at_idx').on(t.action, t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

export const USER_ROLES = ['admin', 'editor', 'viewer'] as const;

/**
 * Console users. `password_hash` is `scrypt$N$r$p$<salt>$<key>` (base64); usernames are unique
 * whatever their case.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').notNull(),
    createdAt: createdAt(),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    check('users_role_known', sql.raw(`role IN (${USER_ROLES.map((r) => `'${r}'`).join(', ')})`)),
    check('users_password_hash_format', sql`${t.passwordHash} LIKE 'scrypt$%'`),
  ],
);

/** Signed-in console sessions; `id` is the SHA-256 (hex) of the cookie's token, never the token. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Key of the session's CSRF token (an HMAC of it). */
    csrfSecret: text('csrf_secret').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

/** Personal API tokens (`kk_…`); only their SHA-256 (hex) is stored, with a prefix to recognise them. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [unique('api_tokens_token_hash_key').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)],
);

/**
 * The transactional outbox: jobs written in the same transaction as the decision that wants them, and
 * relayed to the queues (BullMQ) after the commit, so that a decision never exists without its job nor a
 * job without its decision. A row is deleted once its job is on the queue; `job_id` makes a relay that
 * is repeated after a crash a no-op on the queue side.
 */
export const outbox = pgTable('outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  queue: text('queue').notNull(),
  jobId: text('job_id').notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  /** Run the job again when the queue keeps a finished job under this id (a reviewer's retry). */
  rerun: boolean('rerun').notNull().default(false),
  /** The job waits on its queue until then (a paced reply); null: it runs at once. */
  notBefore: timestamp('not_before', { withTimezone: true }),
  createdAt: createdAt(),
  /** Failed relays (the queue unreachable) and the last reason, for operators. */
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
});

export const SURGE_STATUSES = ['open', 'closed'] as const;
export const ANNOUNCEMENT_STATES = ['pending', 'sent', 'failed'] as const;

/**
 * Surges: an unusual number of near-identical matches of one watch (an outage's flood), reviewed as one
 * case. The id is the detector's ("surge:" and the id of the match that started it). Counts and
 * examples are the detector's summary as last recorded; members point here by `matches.surge_id`.
 */
export const surges = pgTable(
  'surges',
  {
    id: text('id').primaryKey(),
    watchId: text('watch_id').notNull(),
    status: text('status').notNull().default('open'),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull(),
    firstAt: timestamp('first_at', { withTimezone: true }).notNull(),
    lastAt: timestamp('last_at', { withTimezone: true }).notNull(),
    count: integer('count').notNull(),
    intents: jsonb('intents').$type<Record<string, number>>().notNull(),
    platforms: jsonb('platforms').$type<Record<string, number>>().notNull(),
    examples: jsonb('examples').$type<{ id: string; text: string }[]>().notNull(),
    perMinute: jsonb('per_minute').$type<{ minute: number; count: number }[]>().notNull(),
    /** What reviewers did about it, in order: announced, dismissed, escalated, replied, closed. */
    handling: text('handling').array().notNull().default(sql`'{}'::text[]`),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /** quiet (no new member for the configured time) or reviewer. */
    closedBy: text('closed_by'),
    /** Its one Discord message; `nonce` makes a re-post after a crash a no-op. */
    channelId: text('channel_id'),
    messageId: text('message_id'),
    nonce: text('nonce'),
    createdAt: createdAt(),
    updatedAt: createdAt('updated_at'),
  },
  (t) => [
    index('surges_status_detected_idx').on(t.status, t.detectedAt),
    index('surges_detected_idx').on(t.detectedAt),
    check('surges_status_known', sql.raw(`status IN (${SURGE_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

/** A surge's announcement on one account: at most one per surge and account, whoever presses twice. */
export const surgeAnnouncements = pgTable(
  'surge_announcements',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    surgeId: text('surge_id')
      .notNull()
      .references(() => surges.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id').notNull(),
    platform: text('platform').notNull(),
    text: text('text').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    state: text('state').notNull().default('pending'),
    platformPostId: text('platform_post_id'),
    url: text('url'),
    error: text('error'),
    createdBy: jsonb('created_by').$type<Actor>().notNull(),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    unique('surge_announcements_surge_account_key').on(t.surgeId, t.accountId),
    unique('surge_announcements_idempotency_key_key').on(t.idempotencyKey),
    check(
      'surge_announcements_state_known',
      sql.raw(`state IN (${ANNOUNCEMENT_STATES.map((s) => `'${s}'`).join(', ')})`),
    ),
  ],
);

/**
 * The members a reply to a surge's members left out, and why (the console's visible queue): the latest
 * reason per surge and member; a member answered later keeps its row, its reply shows instead.
 */
export const surgeReplySkips = pgTable(
  'surge_reply_skips',
  {
    surgeId: text('surge_id')
      .notNull()
      .references(() => surges.id, { onDelete: 'cascade' }),
    matchId: uuid('match_id')
      .notNull()
      .references(() => matches.id, { onDelete: 'cascade' }),
    /** The desk's reason code (packages/desk SurgeSkip), with its parameters. */
    reason: text('reason').notNull(),
    params: jsonb('params').$type<Record<string, string | number>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ name: 'surge_reply_skips_pkey', columns: [t.surgeId, t.matchId] })],
);

/** A surge escalated to a target: once per surge and target (one ping), whoever presses twice. */
export const surgeEscalations = pgTable(
  'surge_escalations',
  {
    surgeId: text('surge_id')
      .notNull()
      .references(() => surges.id, { onDelete: 'cascade' }),
    target: text('target').notNull(),
    createdBy: jsonb('created_by').$type<Actor>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: 'surge_escalations_pkey', columns: [t.surgeId, t.target] })],
);
