import type { Decision, Platform, Post, Priority } from '@kikimimi/rules';

/** Who did something: a Discord member, a console user, or kikimimi itself. */
export interface Actor {
  readonly kind: 'discord' | 'web' | 'system';
  readonly id: string;
  readonly name: string;
}

/** A connected platform account. Credentials never appear here (see AccountRepository.credentials). */
export interface PlatformAccount {
  readonly id: string;
  readonly platform: Platform;
  readonly label: string;
  /** API base URL (null: the real platform). Mastodon: the instance URL. */
  readonly baseUrl: string | null;
  readonly streamingUrl: string | null;
  /** The account's own handle and id, from the last successful credentials check. */
  readonly handle: string | null;
  readonly accountId: string | null;
  readonly enabled: boolean;
  /** Part of the demo world (stand-in platform inside the worker). */
  readonly demo: boolean;
  readonly pollIntervalSeconds: number;
  readonly streamEnabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PlatformAccountInput {
  readonly platform: Platform;
  readonly label: string;
  readonly baseUrl?: string | null;
  readonly streamingUrl?: string | null;
  /** Platform-specific secret object (X: oauth1/oauth2 credentials; Mastodon: { accessToken }). */
  readonly credentials: unknown;
  readonly enabled?: boolean;
  readonly demo?: boolean;
  readonly pollIntervalSeconds?: number;
  readonly streamEnabled?: boolean;
}

/** Durable state of one source of one account: its cursor and what the platform last said. */
export interface SourceState {
  readonly accountId: string;
  readonly sourceKey: string;
  readonly cursor: string | null;
  readonly lastPolledAt: Date | null;
  readonly lastError: string | null;
  /** When the last failure was recorded (cleared by the next successful poll). */
  readonly lastErrorAt: Date | null;
  readonly rateLimitRemaining: number | null;
  readonly rateLimitLimit: number | null;
  readonly rateLimitResetAt: Date | null;
  /** Do not poll before this (backoff after 429 or failures). */
  readonly notBefore: Date | null;
  readonly consecutiveFailures: number;
}

export interface PollOutcome {
  readonly cursor: string | null;
  /**
   * The cursor the poll started from: the new cursor is stored only if the stored one is still this
   * (another poll of the same source may have moved it meanwhile). Absent: stored unconditionally.
   */
  readonly previousCursor?: string | null;
  readonly rateLimit: { readonly limit: number; readonly remaining: number; readonly resetAt: Date } | null;
  readonly postsRead: number;
  readonly requests: number;
}

/** Discord bindings: logical names used in the configuration → Discord ids. */
export interface DiscordSettings {
  readonly guildId: string | null;
  /** Logical channel name (routing.defaultReviewChannel, routing.platforms/watches values, escalation routes) → channel id. */
  readonly channels: Readonly<Record<string, string>>;
  /** Role ids whose members may act on review messages. */
  readonly reviewerRoleIds: readonly string[];
  /** Role name used in escalation `mentionRoles` → role id. */
  readonly roles: Readonly<Record<string, string>>;
  /** Default UI language when the interaction carries none. */
  readonly locale: 'ja' | 'en';
}

export type MatchStatus =
  | 'new'
  | 'suppressed'
  | 'replied'
  | 'manual_pending'
  | 'escalated'
  | 'dismissed'
  | 'deleted';

/** A matched post with the rules' decision and where it stands. */
export interface MatchRecord {
  readonly id: string;
  readonly platform: Platform;
  readonly postId: string;
  readonly accountId: string | null;
  readonly post: Post;
  readonly decision: Extract<Decision, { matched: true }>;
  readonly status: MatchStatus;
  readonly priority: Priority;
  readonly suppressed: boolean;
  /** An escalation rule fired for it, or a reviewer escalated it. */
  readonly escalated: boolean;
  readonly createdAt: Date;
  readonly firstResponseAt: Date | null;
  /** The case's state: open (our move), waiting (for the customer) or resolved. */
  readonly caseState: CaseState;
  /** Who took the case; null: nobody yet. */
  readonly assignee: Actor | null;
  /** Until when the customer's answers to our replies are followed; null: not followed. */
  readonly followUntil: Date | null;
  /** The surge it is part of (reviewed with it, not on its own); null or absent: none. */
  readonly surgeId?: string | null;
}

export type CaseState = 'open' | 'waiting' | 'resolved';

export type CaseEventKind = 'answer' | 'like' | 'repost' | 'note' | 'assigned' | 'state' | 'voice';

/** How the rules read a customer's answer (see @kikimimi/rules). */
export interface AnswerReading {
  readonly kind: 'thanks' | 'unhappy' | 'question' | 'other';
  readonly signals: readonly string[];
  readonly lang: string | null;
}

/** Something that happened in a case: the customer's answer or reaction, a teammate's note, assignment or state change. */
export interface CaseEvent {
  readonly id: string;
  readonly matchId: string;
  readonly kind: CaseEventKind;
  /** Which of our replies it answers or reacts to. */
  readonly replyId: string | null;
  readonly actor: Actor | null;
  readonly platform: Platform | null;
  readonly postId: string | null;
  readonly url: string | null;
  readonly authorId: string | null;
  readonly authorHandle: string | null;
  readonly text: string;
  readonly post: Post | null;
  readonly reading: AnswerReading | null;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

export interface ReviewMessageRef {
  readonly matchId: string;
  readonly channelId: string;
  readonly messageId: string | null;
  /** The nonce the message is (re)posted with, so Discord drops a duplicate post after a crash. */
  readonly nonce: string;
  /**
   * When it was taken into a message (null: waiting for one). From then on the message may have been
   * sent, so it is only ever sent again as it was: same channel, nonce and members.
   */
  readonly groupedAt: Date | null;
}

/** One review message and the reviews it carries (several in a surge's thread; otherwise one). */
export interface ReviewGroup {
  readonly channelId: string;
  readonly nonce: string;
  readonly messageId: string | null;
  /** Its reviews' matches, in the order they were claimed. */
  readonly matchIds: readonly string[];
  /** When its reviews were taken into the message (null: one review waiting for its message). */
  readonly groupedAt: Date | null;
  /** This call formed the group (false: an earlier attempt, or another review's job, did). */
  readonly formed: boolean;
}

export type DecisionKind = 'reply' | 'manual_reply' | 'escalate' | 'dismiss' | 'refused';

export interface ReviewDecision {
  readonly id: string;
  readonly matchId: string;
  readonly kind: DecisionKind;
  readonly actor: Actor;
  /** reply: { templateId?, text }; escalate: { target }; dismiss: { reason }; refused: { attempted } */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

export type ReplyState = 'pending' | 'sent' | 'failed' | 'manual_pending' | 'manual_done';

/** A public reply of a match's case: seq 1 answers the matched post, later ones the customer's answers. */
export interface ReplyRecord {
  readonly id: string;
  readonly matchId: string;
  readonly seq: number;
  /** The post a follow-up answers; null for the reply to the matched post. */
  readonly target: { readonly postId: string; readonly url: string; readonly authorHandle: string } | null;
  readonly accountId: string;
  readonly text: string;
  readonly idempotencyKey: string;
  readonly state: ReplyState;
  readonly platformReplyId: string | null;
  readonly url: string | null;
  /** For replies the platform refused: the link to post it by hand. */
  readonly manualUrl: string | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly createdBy: Actor;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  /** A paced reply (to a surge's member) is not sent before this time; null: at once. */
  readonly dueAt: Date | null;
}

export interface AuditEntry {
  readonly id: string;
  readonly at: Date;
  readonly actor: Actor;
  /** e.g. 'config.replace', 'account.create', 'match.reply', 'match.refused' */
  readonly action: string;
  readonly target: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export type ConfigProblemList = ReadonlyArray<{
  readonly path: string;
  readonly message: string;
  readonly offset?: number;
}>;
