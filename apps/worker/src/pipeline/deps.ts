import type { Logger } from 'pino';
import type { ConnectorCache } from '../connectors.ts';
import type { EngineProvider } from '../engine-provider.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../ports.ts';
import type { DigestView } from './digest.ts';

/** Follow-up work, put on the queues (idempotent: one job per match and kind while it exists). */
export interface Enqueue {
  notify(matchId: string): Promise<void>;
  /**
   * The same for a page of matches, in one round trip; `delayMs`: not before then. `alike`: they
   * resemble an open surge they did not join (most likely its posts in wordings of their own): reviewed
   * after the other reviews waiting.
   */
  notifyMany(
    matchIds: readonly string[],
    options?: { readonly delayMs?: number; readonly alike?: boolean },
  ): Promise<void>;
  /**
   * Held reviews go now instead of when their delay ends (their delayed notify jobs run at once), after
   * the fresh ones; `alike` as for `notifyMany`.
   */
  release(matchIds: readonly string[], options?: { readonly alike?: boolean }): Promise<void>;
  /**
   * New unsuppressed matches to review: through the surge detector when surges are on (it hands the
   * ordinary ones on to `notifyMany`), else straight to `notifyMany`.
   */
  review(matchIds: readonly string[]): Promise<void>;
  /**
   * Brings a surge's message in step: one job per surge and SURGE_EDIT_MS window (edits are paced);
   * `first`: a new surge's message, posted at once.
   */
  surgeMessage(surgeId: string, options?: { readonly first?: boolean }): Promise<void>;
}

/**
 * Where review messages go (Discord, see discord/notifier.ts): the pipeline's one way to tell
 * reviewers about a match, so that pipeline/ knows no chat platform.
 */
export interface ReviewNotifier {
  /** Posts a match's review message, once per match whatever the retries. */
  post(matchId: string): Promise<'posted' | 'exists' | 'skipped'>;
  /** Brings a match's review message in step with the store (after a decision or a reply's outcome). */
  refresh(matchId: string): Promise<void>;
  /** Posts a match into the escalation channel of `target`, once; false when the target has none. */
  escalate(matchId: string, target: string, actorName: string): Promise<boolean>;
  /** Posts a surge into the escalation channel of `target`, once (one ping); false when the target has none. */
  escalateSurge(surgeId: string, target: string, actorName: string): Promise<boolean>;
  /**
   * Shows a case event (the customer's answer, a teammate's note…) under the match's review message;
   * `notify`: also tells the review channel that the case is open again. `waiting`: the review message
   * is on its way (claimed, its channel busy); ask again in a moment.
   */
  caseEvent(
    matchId: string,
    eventId: string,
    options: { notify: boolean },
  ): Promise<'posted' | 'skipped' | 'waiting'>;
  /** Posts a digest into the channel bound to the logical `channel`, once per period whatever the retries. */
  digest(channel: string, digest: DigestView): Promise<'posted' | 'no_channel'>;
  /** Posts a surge's one message, or edits it to show the surge as it now is. */
  surgeMessage(surgeId: string): Promise<'posted' | 'edited' | 'skipped'>;
}

/** Everything the pipeline’s handlers use, wired once in worker.ts (startWorker). */
export interface PipelineDeps {
  readonly store: Store;
  readonly engines: EngineProvider;
  readonly connectors: ConnectorCache;
  readonly enqueue: Enqueue;
  /** null: no Discord configured — matches are reviewed in the web console only. */
  readonly notifier: ReviewNotifier | null;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now: () => Date;
  /** Tells the consoles that matches appeared (the live inbox); never throws, never waits. */
  readonly announceMatches?: (kind: 'new' | 'changed', ids: readonly string[]) => void;
  /** Called after the pipeline wrote jobs to the outbox itself (the relay's nudge). */
  readonly afterOutbox?: () => void;
  /** First wait after a failed poll; doubles with each failure in a row, at most 15 min (default 5 s). */
  readonly pollBackoffBaseMs?: number;
}
