import type {
  Actor,
  DecisionKind,
  DiscordSettings,
  MatchRecord,
  MatchStatus,
  PlatformAccount,
  PollOutcome,
  ReplyRecord,
  ReviewDecision,
  ReviewMessageRef,
  SourceState,
} from '@kikimimi/db';
import type { Config, ContactRecord, Decision, Platform, Post } from '@kikimimi/rules';

/**
 * What the worker needs from the system of record: the slice of @kikimimi/db's repositories it
 * uses, declared here so the pipeline depends on a small interface (STYLE.md: ports).
 */
export interface ConfigStore {
  current(): Promise<{ version: number; config: Config }>;
}

export interface Store {
  readonly config: ConfigStore;
  readonly discord: { get(): Promise<DiscordSettings> };
  readonly accounts: {
    list(): Promise<PlatformAccount[]>;
    get(id: string): Promise<PlatformAccount | null>;
    credentials(id: string): Promise<unknown>;
    recordIdentity(id: string, identity: { handle: string; accountId: string }): Promise<void>;
  };
  readonly sources: {
    get(accountId: string, key: string): Promise<SourceState | null>;
    recordPoll(accountId: string, key: string, outcome: PollOutcome, now: Date): Promise<void>;
    recordFailure(
      accountId: string,
      key: string,
      error: string,
      notBefore: Date | null,
      now: Date,
    ): Promise<void>;
  };
  readonly ingest: {
    storeBatch(
      accountId: string | null,
      items: Array<{ post: Post; decision: Decision }>,
      options: { cursor?: { accountId: string; sourceKey: string; outcome: PollOutcome } } | undefined,
      now: Date,
    ): Promise<{ newMatches: MatchRecord[]; duplicates: number }>;
    contactHistory(
      authors: Array<{ platform: Platform; authorId: string; handle: string }>,
      since: Date,
    ): Promise<ContactRecord[]>;
    repliesToday(platform: Platform, now: Date): Promise<number>;
  };
  readonly matches: {
    get(id: string): Promise<MatchRecord | null>;
    setStatus(id: string, status: MatchStatus, now: Date): Promise<void>;
    withoutReviewMessage(olderThan: Date, limit: number): Promise<string[]>;
  };
  readonly reviews: {
    claimMessage(matchId: string, channelId: string, nonce: string): Promise<ReviewMessageRef>;
    setMessageId(matchId: string, messageId: string): Promise<void>;
    getMessage(matchId: string): Promise<ReviewMessageRef | null>;
    recordDecision(
      matchId: string,
      kind: DecisionKind,
      actor: Actor,
      detail: Record<string, unknown>,
      now: Date,
    ): Promise<ReviewDecision>;
    decisions(matchId: string): Promise<ReviewDecision[]>;
  };
  readonly replies: {
    begin(
      matchId: string,
      input: { accountId: string; text: string; idempotencyKey: string; actor: Actor },
      now: Date,
    ): Promise<{ created: boolean; reply: ReplyRecord }>;
    markSent(id: string, result: { platformReplyId: string; url: string }, now: Date): Promise<void>;
    markFailed(id: string, error: string, now: Date): Promise<void>;
    markManualPending(id: string, manualUrl: string): Promise<void>;
    markManualDone(id: string, result: { url?: string | undefined }, actor: Actor, now: Date): Promise<void>;
    forMatch(matchId: string): Promise<ReplyRecord | null>;
  };
  readonly audit: {
    record(
      actor: Actor,
      action: string,
      target: string | null,
      detail: Record<string, unknown>,
    ): Promise<void>;
  };
}
