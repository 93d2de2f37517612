import type { Logger } from 'pino';
import type { ConnectorCache } from '../connectors.ts';
import type { DiscordPort } from '../discord/port.ts';
import type { EngineProvider } from '../engine-provider.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../ports.ts';

/** Follow-up work, put on the queues (idempotent: one job per match and kind while it exists). */
export interface Enqueue {
  notify(matchId: string): Promise<void>;
  /** The same for a page of matches, in one round trip. */
  notifyMany(matchIds: readonly string[]): Promise<void>;
  reply(matchId: string): Promise<void>;
}

/** Everything the pipeline's handlers use, wired once in main.ts. */
export interface PipelineDeps {
  readonly store: Store;
  readonly engines: EngineProvider;
  readonly connectors: ConnectorCache;
  readonly enqueue: Enqueue;
  /** null: no Discord configured — matches are reviewed in the web console only. */
  readonly discord: DiscordPort | null;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now: () => Date;
  /** First wait after a failed poll; doubles with each failure in a row, at most 15 min (default 5 s). */
  readonly pollBackoffBaseMs?: number;
}
