import type { FaultInjector, SandboxPostInput, SandboxReply } from '@kikimimi/sandbox';
import type { Connector, PollSource, StreamSource } from '../src/types.ts';

/**
 * What the shared contract suite needs from each platform: a connector pointed at a fresh stand-in,
 * a poll source that sees posts added with `addPost`, and the stand-in's controls.
 */
export interface ContractWorld {
  readonly connector: Connector;
  /** A poll source that returns every post added with `addPost` (e.g. an X search or a hashtag). */
  readonly source: PollSource;
  /** The word or tag `source` listens for; `addPost` texts in the suite contain it. */
  readonly keyword: string;
  /** Largest page the stand-in serves for `source` (the suite adds more than this in one burst). */
  readonly pageSize: number;
  /** Whether `source` lists reposts at all (default true; Bluesky's search never does). */
  readonly repostsInSource?: boolean;
  /**
   * Whether a burst larger than the page budget is handed on oldest first across polls (default
   * true). Bluesky's connector hands on the newest pages first and reads the older part after them
   * (its README, "Cursors"): every post once, but not in one order across polls.
   */
  readonly burstOldestFirst?: boolean;
  /** Adds a post the source will see; returns its platform id. */
  addPost(post: SandboxPostInput): string;
  /** Adds a post whose text is HTML (Mastodon) or has entities (X); returns its id. */
  addRichPost(): { id: string; expectedText: string; expectedUrls: string[] };
  replies(): readonly SandboxReply[];
  readonly faults: FaultInjector;
  /** Make the stand-in refuse API replies the way the platform does (X: 403 unless mentioned). */
  setReplyRestricted(restricted: boolean): void;
  /** A stream source, when the platform streams; `dropStreams` cuts every open stream connection. */
  readonly streamSource?: StreamSource;
  dropStreams?(): void;
  close(): Promise<void>;
}

export interface ContractHarness {
  readonly platform: Connector['platform'];
  start(): Promise<ContractWorld>;
}
