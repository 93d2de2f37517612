import { type Intent, intentSchema, SURGE_DEFAULTS, type SurgeConfig, surgesSchema } from '../config.ts';
import { type Platform, platformSchema } from '../post.ts';
import {
  type Baseline,
  firstFullHour,
  groupKey,
  type HourlyCounts,
  hourOf,
  pruneBaseline,
  usualPerHour,
} from './baseline.ts';
import { agreeing, bandKeys, minHash, SIGNATURE_SIZE, textShingles } from './signature.ts';

/** One match as the surge detector sees it. */
export interface SurgeMatch {
  readonly id: string;
  /** When it happened, ms since epoch (the post's time): the detector's only clock. */
  readonly at: number;
  /** The watch it is counted under (a post matching several watches: the one it is reviewed under). */
  readonly watchId: string;
  readonly intent: Intent;
  /** The post's text through `normalizeText`. */
  readonly text: string;
  readonly platform: Platform;
}

/** A surge as a reviewer sees it: how big, how fast, since when, what it says. */
export interface SurgeSummary {
  /** "surge:" and the id of the match that started it: stable across restarts and rebuilds. */
  readonly id: string;
  readonly watchId: string;
  readonly status: 'open' | 'closed';
  /** Time of the match that made it a surge. */
  readonly detectedAt: number;
  /** Time of its earliest and latest member. */
  readonly firstAt: number;
  readonly lastAt: number;
  readonly count: number;
  readonly intents: Readonly<Partial<Record<Intent, number>>>;
  readonly platforms: Readonly<Partial<Record<Platform, number>>>;
  /** The first match of each near-duplicate group in it (different wordings first), at most 5. */
  readonly examples: readonly { readonly id: string; readonly text: string }[];
  /** Members per minute (minute start, ms), oldest first, the last 6 hours at most. */
  readonly perMinute: readonly { readonly minute: number; readonly count: number }[];
  readonly closedAt?: number;
  readonly closedBy?: 'quiet' | 'reviewer';
}

/** What the detector says about a match. */
export type SurgeVerdict =
  | {
      readonly kind: 'ordinary';
      readonly closed: readonly SurgeSummary[];
      /**
       * Set when the match's near-duplicate group looks like the start of a surge, or of another
       * wording joining one: the group would already be a surge at a quarter of `minCount` (at least 3;
       * same baseline and wording checks), or its watch or intent is flooded or has a surge open and the
       * group is fast at three; or its intent is flooded (or has half of `minCount` within ten seconds)
       * and no surge (or one with fewer than `minCount` members) is open in the watch yet. Its own review can wait a little (`holdSeconds`) for the
       * surge, and be asked about again (`reconsider`). Never set for a window after a reviewer closed a
       * surge in the watch. `flood`: only the latter (no group of its own forming): the surge is seconds
       * away, a short wait is enough.
       */
      readonly forming?: { readonly count: number; readonly flood?: true };
    }
  | {
      /** `started`: this match made a new surge; `joined`: it belongs to an open one. */
      readonly kind: 'started' | 'joined';
      readonly surge: SurgeSummary;
      /**
       * Earlier matches (ids, the most recent 200 of each group at most) that were ordinary until now
       * and belong to the surge: their near-duplicate group has just become part of it, or (while the
       * flood goes on, each time the surge has doubled) its first text says what the surge's members say.
       */
      readonly earlier: readonly string[];
      readonly closed: readonly SurgeSummary[];
    };

/** Surge detection over a stream of matches: pure, deterministic, its state serialisable. */
export interface SurgeDetector {
  /** Judges one match and learns from it. Matches should come roughly in time order. */
  add(match: SurgeMatch): SurgeVerdict;
  /** Closes the surges quiet for the configured period at time `now`; returns them. */
  closeQuiet(now: number): SurgeSummary[];
  /** A reviewer closes a surge: later matches are judged afresh. Undefined when no such open surge. */
  close(surgeId: string, now: number): SurgeSummary | undefined;
  readonly openSurges: () => SurgeSummary[];
  /**
   * Asks again about a match judged ordinary earlier (held for a forming surge, its hold over): it joins
   * its watch's open surge now if the flood goes on and it says what the surge's members say (as a
   * match like none of its groups would). Ordinary otherwise — with `forming` when a group of its
   * near-duplicates is coming fast now (as `add` says it; the worker keeps such a match waiting a little
   * longer: the surge takes such groups in as they grow). Asked twice, it joins once; a match
   * already handed over in a verdict's `earlier` is the caller's to leave out (groups that join a
   * surge forget their members' ids).
   */
  reconsider(match: SurgeMatch): SurgeVerdict;
  /**
   * How much a match's words are those of its watch's open surge rather than of the watch's usual
   * matches: the mean log likelihood ratio per bigram, as a match must reach `PROFILE_MIN` of to join,
   * but over the bigrams seen in either only (above 0: more typical of the surge; below: of the usual; 0
   * for words neither has seen). Null while the watch has no open surge of `minCount` members or too few
   * matches to know its usual words. Learns nothing.
   */
  resemblance(match: Pick<SurgeMatch, 'watchId' | 'text'>): number | null;
  /** The usual matches per hour for a watch and intent at `at` (what a surge is measured against). */
  usualPerHour(watchId: string, intent: Intent, at: number): number;
  /** Near-duplicate groups currently tracked. */
  readonly clusterCount: () => number;
  /** Everything needed to continue later: plain JSON. */
  toJSON(): SurgeState;
}

export interface SurgeDetectorOptions {
  /** Defaults: `SURGE_DEFAULTS`. */
  readonly config?: Partial<SurgeConfig>;
  /** A saved state (`toJSON()`, through JSON or not) to continue from. */
  readonly state?: SurgeState;
  /** A baseline built from stored counts (`baselineFrom`); ignored with `state`. */
  readonly baseline?: Baseline;
  /** Near-duplicate groups kept at most (the least recently seen go first). Default 100,000. */
  readonly maxClusters?: number;
}

const MINUTE_MS = 60_000;
/** Member ids a near-duplicate group remembers, to hand over when it joins a surge. */
const MEMBER_MEMORY = 200;
const EXAMPLES = 5;
const SERIES_MINUTES = 360;
/** Intents making up at least this share of a group's matches are its intents. */
export const INTENT_SHARE = 0.25;
/**
 * Bigrams in at least this share of a watch's recent matches say nothing about what a post says (the
 * brand's name is in all of them): they are left out of the comparison.
 */
const COMMON_SHARE = 0.3;
/** …once the watch has this many matches to tell. */
const COMMON_MIN_MATCHES = 20;
/** Bigram counts are halved when a watch reaches twice this many matches: recent ones weigh most. */
const COMMON_HALF_LIFE = 1_000;
/**
 * A match like none of a surge's near-duplicate groups joins it while the flood goes on when its words
 * are this much more typical of the surge's members than of the watch's usual matches (mean log
 * likelihood ratio per bigram; packages/rules/README.md "Surges"). Chosen with
 * apps/worker/bench/surge-replay.ts on the generator's outage among normal traffic: lower takes in
 * normal matches, higher leaves more of the outage's own posts alone.
 */
const PROFILE_MIN = 0.3;
/** A watch's intent is flooded by its matches over this many minutes (this one and the one before). */
const FLOOD_MINUTES = 2;
/**
 * …or over the last this many milliseconds: an outage's first seconds (`minCount` matches of one intent
 * within them is a flood however busy the watch, unless `factor` times its usual rate says otherwise),
 * seen before a minute's counts could tell it from the usual.
 */
const FLOOD_SHORT_MS = 10_000;

const INTENTS: readonly Intent[] = intentSchema.options;
const INTENT_INDEX = new Map(INTENTS.map((intent, i) => [intent, i]));

/** A recent match, shared by every near-duplicate group it resembles. */
interface Member {
  readonly id: string;
  readonly at: number;
  readonly intent: Intent;
  readonly platform: Platform;
  /** Already counted in a surge (through another group). */
  inSurge: boolean;
}

/** A near-duplicate group: matches of one watch whose text resembles its first one. */
interface Cluster {
  readonly id: number;
  readonly watchId: string;
  readonly signature: Uint32Array;
  readonly seed: { readonly id: string; readonly text: string };
  /** Time of its first match, and how many it has counted since: the usual rate of this wording. */
  readonly born: number;
  total: number;
  /** [minute, count per intent…] of the window, oldest first. */
  buckets: number[][];
  members: Member[];
  last: number;
  surge: Surge | undefined;
  /** The last lookup that compared it (not state: saves a Set per lookup). */
  visited: number;
}

interface Surge {
  readonly id: string;
  readonly watchId: string;
  readonly detectedAt: number;
  firstAt: number;
  lastAt: number;
  /** The last time it had at least `busyCount` members within a window: quiet is measured from here. */
  busyAt: number;
  count: number;
  intents: Partial<Record<Intent, number>>;
  platforms: Partial<Record<Platform, number>>;
  examples: { id: string; text: string }[];
  perMinute: [number, number][];
  clusters: Set<Cluster>;
  /** What its members say: bigram → members that have it, and how many texts were counted. */
  words: Map<number, number>;
  texts: number;
  /** The member count at which it next looks for recent groups saying the same (`sweep`). */
  nextSweep: number;
}

/** How often each bigram occurs in a watch's recent matches (not counting surges). */
interface WatchText {
  matches: number;
  counts: Map<number, number>;
}

/** The detector's state as plain JSON (version 1). */
export interface SurgeState {
  readonly version: 1;
  /** The latest match time seen (null before the first). */
  readonly clock: number | null;
  /** The hour old counts were last forgotten at (null before the first match). */
  readonly prunedHour: number | null;
  /** [watch id, matches, [[bigram, count]…]] */
  readonly texts: readonly (readonly [string, number, readonly (readonly [number, number])[]])[];
  /** The first whole hour watched (null before the first match). */
  readonly observedFromHour: number | null;
  readonly nextCluster: number;
  /** [group key, [[hour, count]…]] */
  readonly baseline: readonly (readonly [string, readonly (readonly [number, number])[]])[];
  /** [group key, [[minute, count]…]] of the window */
  readonly windows: readonly (readonly [string, readonly (readonly [number, number])[]])[];
  readonly clusters: readonly {
    readonly id: number;
    readonly watchId: string;
    readonly signature: readonly number[];
    readonly seed: { readonly id: string; readonly text: string };
    readonly born: number;
    readonly total: number;
    readonly buckets: readonly (readonly number[])[];
    /** Indexes into `members`. */
    readonly members: readonly number[];
    readonly last: number;
    readonly surge: string | null;
  }[];
  /** [id, at, intent, platform, in a surge] of the matches the groups remember. */
  readonly members: readonly (readonly [string, number, Intent, Platform, boolean])[];
  /** [watch id, time] of the last surge a reviewer closed in each watch, within the window (absent: none). */
  readonly reviewerClosed?: readonly (readonly [string, number])[];
  /** When watching began (ms; absent or null: at the first match). */
  readonly startedAt?: number | null;
  /** [group key, [[minute, count]…]] of the matches before the first full hour was watched (absent: none). */
  readonly early?: readonly (readonly [string, readonly (readonly [number, number])[]])[];
  readonly surges: readonly {
    readonly id: string;
    readonly watchId: string;
    readonly detectedAt: number;
    readonly firstAt: number;
    readonly lastAt: number;
    readonly busyAt: number;
    readonly count: number;
    readonly intents: Partial<Record<Intent, number>>;
    readonly platforms: Partial<Record<Platform, number>>;
    readonly examples: readonly { readonly id: string; readonly text: string }[];
    readonly perMinute: readonly (readonly [number, number])[];
    /** [bigram, members with it] and the texts counted (absent in older states: none). */
    readonly words?: readonly (readonly [number, number])[];
    readonly texts?: number;
    readonly nextSweep?: number;
  }[];
}

const addTo = <K extends string>(record: Partial<Record<K, number>>, key: K, n = 1) => {
  record[key] = (record[key] ?? 0) + n;
};

function checkMatch(match: SurgeMatch): void {
  const bad = (what: string) => {
    throw new Error(`surge detector: match ${JSON.stringify(match.id)} has ${what}`);
  };
  if (typeof match.id !== 'string' || match.id === '') bad('no id');
  if (!Number.isFinite(match.at)) bad('no valid time (at: ms since epoch)');
  if (typeof match.watchId !== 'string' || match.watchId === '') bad('no watchId');
  if (!INTENT_INDEX.has(match.intent)) bad(`an unknown intent ${JSON.stringify(match.intent)}`);
  if (!platformSchema.options.includes(match.platform))
    bad(`an unknown platform ${JSON.stringify(match.platform)}`);
  if (typeof match.text !== 'string') bad('no text');
}

/**
 * Creates a surge detector. A surge starts when, within `windowMinutes`, a group of near-identical
 * matches of one watch (estimated Jaccard similarity of character bigrams ≥ `similarity` with the
 * group's first text) counts at least `minCount`, and the matches of that watch and the group's
 * intents since the group appeared number at least `factor` times their usual count for that time
 * (README "Surges"). Until the baseline has a full hour, the usual count is their rate between the
 * start of watching and the group's appearance; for a group that appeared before a window was watched,
 * only `factor × minCount` near-duplicates make a surge. Also: a flood of an intent (`minCount` of it
 * over the flood's minutes, this minute so far or the last ten seconds, and `factor` times its usual)
 * lets small fast groups start or join a surge, and a surge takes in matches that say what its members
 * say.
 * Throws on a configuration the schema refuses, naming the setting.
 */
export function createSurgeDetector(options: SurgeDetectorOptions = {}): SurgeDetector {
  const parsed = surgesSchema.safeParse({ ...SURGE_DEFAULTS, ...options.config });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`surge detector: surges.${issue?.path.join('.')}: ${issue?.message}`);
  }
  const config: SurgeConfig = parsed.data;
  const windowMs = config.windowMinutes * MINUTE_MS;
  const maxClusters = options.maxClusters ?? 100_000;

  let clock = Number.NEGATIVE_INFINITY;
  let nextCluster = 1;
  // A copy: the detector counts into it, the caller's stays as given.
  const baseline: Baseline = {
    groups: new Map([...(options.baseline?.groups ?? [])].map(([key, hours]) => [key, new Map(hours)])),
    observedFromHour: options.baseline?.observedFromHour ?? Number.NaN,
  };
  let prunedHour = Number.NEGATIVE_INFINITY;
  /** When watching began: the baseline's start, or the first match. */
  let startedAt = options.baseline?.observedSince ?? Number.NaN;
  /**
   * Per group: minute → matches not in a surge, until the first full hour is watched. Until then the
   * baseline knows nothing usual, and the matches seen so far are the only measure of it.
   */
  const early = new Map<string, Map<number, number>>();
  /** Per group: [minute, count] of the window, oldest first. */
  const windows = new Map<string, [number, number][]>();
  /**
   * Per group: the times of its matches within the last `FLOOD_SHORT_MS`, oldest first. Not part of the
   * saved state: a restored detector has seen no flood's first seconds (a rebuild replays them).
   */
  const lately = new Map<string, number[]>();
  const countLately = (key: string, at: number) => {
    let times = lately.get(key);
    if (times === undefined) {
      times = [];
      lately.set(key, times);
    }
    let i = times.length;
    while (i > 0 && (times[i - 1] as number) > at) i--;
    times.splice(i, 0, at);
    let old = 0;
    while (old < times.length && (times[old] as number) <= clock - FLOOD_SHORT_MS) old++;
    if (old > 0) times.splice(0, old);
    if (times.length === 0) lately.delete(key);
  };
  /** Clusters not in a surge, least recently seen first (a Map keeps insertion order). */
  const idle = new Map<number, Cluster>();
  /** Per watch: LSH band key → clusters (bare when alone, as most are: a third of the memory). */
  const index = new Map<string, Map<number, Cluster | Cluster[]>>();
  const surges = new Map<string, Surge>();
  const texts = new Map<string, WatchText>();
  let clusterTotal = 0;
  /**
   * Per watch: when a reviewer last closed a surge there. For a window after that, nothing in the watch
   * is said to be "forming": the reviewer asked for its matches one by one.
   */
  const reviewerClosed = new Map<string, number>();
  /** With a surge open in the watch, a near-duplicate group joins it at this size. */
  const attachCount = Math.max(3, Math.ceil(config.minCount / 4));
  /**
   * A surge down to fewer matches per window than this, or than its watch and intents usually get, is
   * over (what is left is the usual trickle of the same complaint); after `quietMinutes` of that it closes.
   */
  const busyCount = Math.max(2, Math.ceil(config.minCount / 2));

  // --- text ------------------------------------------------------------------------------------
  const distinctive = (watchId: string, set: Uint32Array): Uint32Array => {
    const text = texts.get(watchId);
    if (text === undefined || text.matches < COMMON_MIN_MATCHES) return set;
    const limit = COMMON_SHARE * text.matches;
    return set.filter((shingle) => (text.counts.get(shingle) ?? 0) < limit);
  };
  const learnText = (watchId: string, set: Uint32Array) => {
    let text = texts.get(watchId);
    if (text === undefined) {
      text = { matches: 0, counts: new Map() };
      texts.set(watchId, text);
    }
    text.matches++;
    for (const shingle of set) text.counts.set(shingle, (text.counts.get(shingle) ?? 0) + 1);
    if (text.matches >= 2 * COMMON_HALF_LIFE) {
      text.matches /= 2;
      for (const [shingle, count] of text.counts) {
        if (count < 2) text.counts.delete(shingle);
        else text.counts.set(shingle, count / 2);
      }
    }
  };

  const windowStart = () => Math.floor((clock - windowMs) / MINUTE_MS) + 1;

  // --- windows ---------------------------------------------------------------------------------
  const countWindow = (key: string, minute: number) => {
    let buckets = windows.get(key);
    if (buckets === undefined) {
      buckets = [];
      windows.set(key, buckets);
    }
    const from = windowStart();
    while (buckets.length > 0 && (buckets[0] as [number, number])[0] < from) buckets.shift();
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last[0] === minute) last[1]++;
    else if (last === undefined || last[0] < minute) buckets.push([minute, 1]);
    else {
      // A late match: its minute within the window, in order.
      const at = buckets.findIndex((b) => b[0] >= minute);
      const found = buckets[at];
      if (found !== undefined && found[0] === minute) found[1]++;
      else if (minute >= from) buckets.splice(at, 0, [minute, 1]);
    }
  };
  const inWindow = (key: string, from = windowStart()): number => {
    const buckets = windows.get(key);
    if (buckets === undefined) return 0;
    let sum = 0;
    for (const [minute, count] of buckets) if (minute >= from) sum += count;
    return sum;
  };

  // --- baseline --------------------------------------------------------------------------------
  const countUsual = (key: string, at: number, n: number) => {
    let counts: HourlyCounts | undefined = baseline.groups.get(key);
    if (counts === undefined) {
      counts = new Map();
      baseline.groups.set(key, counts);
    }
    const hour = hourOf(at);
    const value = (counts.get(hour) ?? 0) + n;
    if (value > 0) counts.set(hour, value);
    else counts.delete(hour);
  };
  // The usual count changes by the hour: computed once per group and hour.
  const usualCache = new Map<string, { hour: number; value: number }>();
  const usual = (key: string, at: number): number => {
    if (Number.isNaN(baseline.observedFromHour)) return 0;
    const hour = hourOf(at);
    const cached = usualCache.get(key);
    if (cached !== undefined && cached.hour === hour) return cached.value;
    const value = usualPerHour(baseline, key, hour, config.baselineWeeks);
    usualCache.set(key, { hour, value });
    return value;
  };
  /** Before the baseline has a full hour (it says 0 for everything then): the matches seen so far are the usual. */
  const isEarly = (at: number) => !(hourOf(at) > baseline.observedFromHour);
  const countEarly = (key: string, at: number, n: number) => {
    if (!isEarly(at)) return;
    let minutes = early.get(key);
    if (minutes === undefined) {
      minutes = new Map();
      early.set(key, minutes);
    }
    const minute = Math.floor(at / MINUTE_MS);
    const value = (minutes.get(minute) ?? 0) + n;
    if (value > 0) minutes.set(minute, value);
    else minutes.delete(minute);
  };
  /**
   * The count of a group to expect over `minutes` minutes from `fromMinute`: from the baseline once it
   * has a full hour; before that, the group's rate between the start of watching and `fromMinute`,
   * undefined when that was shorter than `minSpan` ms (too little watched to tell what is usual).
   */
  const expected = (
    key: string,
    at: number,
    fromMinute: number,
    minutes: number,
    minSpan: number,
  ): number | undefined => {
    if (!isEarly(at)) return (usual(key, at) * minutes) / 60;
    const span = fromMinute * MINUTE_MS - startedAt;
    if (!(span >= minSpan && span > 0)) return undefined;
    let before = 0;
    for (const [minute, count] of early.get(key) ?? []) if (minute < fromMinute) before += count;
    return (before * minutes * MINUTE_MS) / span;
  };
  /** The usual count of a group over the window (undefined when too little was watched to say). */
  const expectedInWindow = (key: string, at: number): number | undefined =>
    expected(key, at, windowStart(), config.windowMinutes, MINUTE_MS);
  /** The usual count in a window of a watch's main intents among `intents` (those with a quarter or more). */
  const usualFor = (watchId: string, intents: Partial<Record<Intent, number>>, at: number): number => {
    let total = 0;
    for (const intent of INTENTS) total += intents[intent] ?? 0;
    let sum = 0;
    for (const intent of INTENTS) {
      if ((intents[intent] ?? 0) < total * INTENT_SHARE) continue;
      sum += expectedInWindow(groupKey(watchId, intent), at) ?? 0;
    }
    return sum;
  };
  /**
   * The watch has more matches in the window than usual would allow: a flood, not a lesson. Never
   * before a window has been watched (nothing to tell a flood from the usual by).
   */
  const watchIsBusy = (watchId: string, at: number): boolean => {
    let current = 0;
    let usualCount = 0;
    for (const intent of INTENTS) {
      const key = groupKey(watchId, intent);
      current += inWindow(key);
      const usualHere = expectedInWindow(key, at);
      if (usualHere === undefined) return false;
      usualCount += usualHere;
    }
    return current >= Math.max(config.minCount, config.factor * usualCount);
  };

  /**
   * A watch's intent is flooded: over this minute and the one before (the window at most), over this
   * minute so far, or over the last ten seconds (there `shortFloor` instead of `minCount`), `minCount`
   * or more matches and `factor` times its usual count for that time. Short, so a flood is seen in its
   * first seconds, not diluted by the quiet minutes before it.
   */
  const intentFlooded = (key: string, at: number, shortFloor = config.minCount): boolean => {
    const minute = Math.floor(clock / MINUTE_MS);
    const from = Math.max(windowStart(), minute - FLOOD_MINUTES + 1);
    const usualHere = expected(key, at, from, minute - from + 1, MINUTE_MS);
    if (usualHere === undefined) return false;
    if (inWindow(key, from) >= Math.max(config.minCount, config.factor * usualHere)) return true;
    // This minute so far, and the last ten seconds, against the usual for as long: a flood in its first
    // seconds (`minCount` is the floor, so a few matches close together are never one).
    const perMinute = expected(key, at, minute, 1, MINUTE_MS) ?? 0;
    const sofar = (clock - minute * MINUTE_MS) / MINUTE_MS;
    if (inWindow(key, minute) >= Math.max(config.minCount, config.factor * perMinute * sofar)) return true;
    const times = lately.get(key);
    if (times === undefined) return false;
    let n = 0;
    for (let i = times.length - 1; i >= 0 && (times[i] as number) > clock - FLOOD_SHORT_MS; i--) n++;
    return n >= Math.max(shortFloor, (config.factor * perMinute * FLOOD_SHORT_MS) / MINUTE_MS);
  };
  /**
   * Its intent flooded, or half of `minCount` of it within the last ten seconds (and `factor` times
   * its usual rate) — perhaps an outage's first seconds: what holds a match back (with `holdSeconds`
   * its first posts wait for the surge instead of each taking a slot in the review channel). Not what
   * starts a surge: everyday traffic has clumps that size (see `add`).
   */
  const holdFloor = Math.max(3, Math.ceil(config.minCount / 2));
  const floodLikely = (key: string, at: number, flooded: boolean): boolean =>
    flooded || intentFlooded(key, at, holdFloor);

  // --- clusters --------------------------------------------------------------------------------
  const bandsOf = (watchId: string) => {
    let bands = index.get(watchId);
    if (bands === undefined) {
      bands = new Map();
      index.set(watchId, bands);
    }
    return bands;
  };
  const indexCluster = (cluster: Cluster) => {
    const bands = bandsOf(cluster.watchId);
    for (const key of bandKeys(cluster.signature)) {
      const held = bands.get(key);
      if (held === undefined) bands.set(key, cluster);
      else if (Array.isArray(held)) held.push(cluster);
      else bands.set(key, [held, cluster]);
    }
  };
  const forget = (cluster: Cluster) => {
    const bands = index.get(cluster.watchId);
    if (bands !== undefined) {
      for (const key of bandKeys(cluster.signature)) {
        const held = bands.get(key);
        if (held === cluster) bands.delete(key);
        else if (Array.isArray(held)) {
          const at = held.indexOf(cluster);
          if (at !== -1) held.splice(at, 1);
          if (held.length === 1) bands.set(key, held[0] as Cluster);
        }
      }
      if (bands.size === 0) index.delete(cluster.watchId);
    }
    idle.delete(cluster.id);
    clusterTotal--;
  };
  const clusterCount = (cluster: Cluster): number[] => {
    const from = windowStart();
    const perIntent = INTENTS.map(() => 0);
    for (const bucket of cluster.buckets) {
      if ((bucket[0] as number) < from) continue;
      for (let i = 0; i < perIntent.length; i++)
        perIntent[i] = (perIntent[i] as number) + (bucket[i + 1] as number);
    }
    return perIntent;
  };
  const windowTotal = (cluster: Cluster): number => clusterCount(cluster).reduce((a, b) => a + b, 0);
  /** A group's matches over the flood's minutes (this one and those before it). */
  const recentTotal = (cluster: Cluster): number => {
    const from = Math.floor(clock / MINUTE_MS) - FLOOD_MINUTES + 1;
    let sum = 0;
    for (const bucket of cluster.buckets) {
      if ((bucket[0] as number) < from) continue;
      for (let i = 1; i < bucket.length; i++) sum += bucket[i] as number;
    }
    return sum;
  };
  const expireClusters = () => {
    const before = clock - windowMs;
    for (const cluster of idle.values()) {
      if (cluster.last >= before && clusterTotal <= maxClusters) break;
      forget(cluster);
    }
  };
  /** Signature values that must agree for `config.similarity`. */
  const needed = Math.ceil(config.similarity * SIGNATURE_SIZE - 1e-9);
  let visits = 0;
  /** The groups of the watch whose first text resembles `signature`: most similar first. */
  const similarClusters = (watchId: string, signature: Uint32Array): Cluster[] => {
    const bands = index.get(watchId);
    if (bands === undefined) return [];
    const found: { cluster: Cluster; score: number }[] = [];
    const visit = ++visits;
    const check = (cluster: Cluster) => {
      if (cluster.visited === visit) return;
      cluster.visited = visit;
      const same = agreeing(signature, cluster.signature, needed);
      if (same >= needed) found.push({ cluster, score: same / SIGNATURE_SIZE });
    };
    for (const key of bandKeys(signature)) {
      const held = bands.get(key);
      if (held === undefined) continue;
      if (Array.isArray(held)) for (const cluster of held) check(cluster);
      else check(held);
    }
    found.sort((a, b) => b.score - a.score || a.cluster.id - b.cluster.id);
    return found.map((f) => f.cluster);
  };
  /** Counts a match in an idle group's window and remembers it. */
  const countIn = (cluster: Cluster, member: Member) => {
    cluster.last = Math.max(cluster.last, member.at);
    cluster.total++;
    // Seen now: to the end of the least-recently-seen order.
    idle.delete(cluster.id);
    idle.set(cluster.id, cluster);
    const from = windowStart();
    while (cluster.buckets.length > 0 && ((cluster.buckets[0] as number[])[0] as number) < from)
      cluster.buckets.shift();
    const minute = Math.floor(member.at / MINUTE_MS);
    let bucket = cluster.buckets.find((b) => b[0] === minute);
    if (bucket === undefined) {
      bucket = [minute, ...INTENTS.map(() => 0)];
      cluster.buckets.push(bucket);
      cluster.buckets.sort((a, b) => (a[0] as number) - (b[0] as number));
    }
    const slot = (INTENT_INDEX.get(member.intent) as number) + 1;
    bucket[slot] = (bucket[slot] as number) + 1;
    cluster.members = cluster.members.filter((m) => m.at >= from * MINUTE_MS);
    cluster.members.push(member);
    if (cluster.members.length > MEMBER_MEMORY) cluster.members.shift();
  };

  // --- surges ----------------------------------------------------------------------------------
  const summary = (
    surge: Surge,
    status: 'open' | 'closed',
    closedAt?: number,
    closedBy?: 'quiet' | 'reviewer',
  ): SurgeSummary => ({
    id: surge.id,
    watchId: surge.watchId,
    status,
    detectedAt: surge.detectedAt,
    firstAt: surge.firstAt,
    lastAt: surge.lastAt,
    count: surge.count,
    intents: { ...surge.intents },
    platforms: { ...surge.platforms },
    examples: surge.examples.map((e) => ({ ...e })),
    perMinute: surge.perMinute.map(([minute, count]) => ({ minute: minute * MINUTE_MS, count })),
    ...(closedAt === undefined ? {} : { closedAt }),
    ...(closedBy === undefined ? {} : { closedBy }),
  });
  const addToSurge = (surge: Surge, member: Member) => {
    surge.count++;
    surge.firstAt = Math.min(surge.firstAt, member.at);
    surge.lastAt = Math.max(surge.lastAt, member.at);
    addTo(surge.intents, member.intent);
    addTo(surge.platforms, member.platform);
    const minute = Math.floor(member.at / MINUTE_MS);
    const last = surge.perMinute[surge.perMinute.length - 1];
    if (last !== undefined && last[0] === minute) last[1]++;
    else if (last === undefined || last[0] < minute) {
      surge.perMinute.push([minute, 1]);
      if (surge.perMinute.length > SERIES_MINUTES) surge.perMinute.shift();
    } else {
      const found = surge.perMinute.find((b) => b[0] === minute);
      if (found !== undefined) found[1]++;
    }
    let recent = 0;
    const from = windowStart();
    for (let i = surge.perMinute.length - 1; i >= 0; i--) {
      const [m, n] = surge.perMinute[i] as [number, number];
      if (m < from) break;
      recent += n;
    }
    if (recent >= busyCount && recent >= usualFor(surge.watchId, surge.intents, member.at))
      surge.busyAt = Math.max(surge.busyAt, member.at);
  };
  /** One of the surge's main intents (a quarter of its members or more) is flooded in its watch. */
  const surgeFlooded = (surge: Surge): boolean =>
    INTENTS.some(
      (intent) =>
        (surge.intents[intent] ?? 0) >= surge.count * INTENT_SHARE &&
        intentFlooded(groupKey(surge.watchId, intent), clock),
    );
  const learnWords = (surge: Surge, set: Uint32Array, n: number) => {
    surge.texts += n;
    for (const shingle of set) surge.words.set(shingle, (surge.words.get(shingle) ?? 0) + n);
  };
  /**
   * How much more typical `set` is of the surge's members than of its watch's usual matches: the mean
   * over its bigrams of log(P(bigram | member) / P(bigram | usual match)), each smoothed.
   */
  const profileScore = (surge: Surge, set: Uint32Array): number => {
    const usualText = texts.get(surge.watchId);
    if (set.length === 0 || usualText === undefined || usualText.matches < COMMON_MIN_MATCHES) return 0;
    let sum = 0;
    for (const shingle of set) {
      const member = ((surge.words.get(shingle) ?? 0) + 0.5) / (surge.texts + 1);
      const usualMatch = ((usualText.counts.get(shingle) ?? 0) + 0.5) / (usualText.matches + 1);
      sum += Math.log(member / usualMatch);
    }
    return sum / set.length;
  };
  /**
   * Each time a surge has doubled (from `minCount` members), while the flood goes on: the first match
   * of each of the watch's recent groups not in it whose text says what the surge's members say joins
   * it (an outage's first posts, each worded its own way, queued for a review of their own before the
   * surge formed). Returns them.
   */
  const sweep = (surge: Surge): string[] => {
    if (surge.texts < surge.nextSweep) return [];
    surge.nextSweep = 2 * surge.texts;
    if (!surgeFlooded(surge)) return [];
    const from = windowStart() * MINUTE_MS;
    const earlier: string[] = [];
    for (const cluster of idle.values()) {
      if (cluster.watchId !== surge.watchId || cluster.last < from) continue;
      // The group's first match only: the only one whose text is kept. The group itself stays apart
      // (its other matches only resemble that text, and so may later ones).
      const seed = cluster.members.find((m) => m.id === cluster.seed.id);
      if (seed === undefined || seed.inSurge) continue;
      const set = textShingles(cluster.seed.text);
      if (profileScore(surge, set) < PROFILE_MIN) continue;
      seed.inSurge = true;
      addToSurge(surge, seed);
      learnWords(surge, set, 1);
      countUsual(groupKey(cluster.watchId, seed.intent), seed.at, -1);
      countEarly(groupKey(cluster.watchId, seed.intent), seed.at, -1);
      earlier.push(seed.id);
    }
    return earlier;
  };
  const attach = (surge: Surge, cluster: Cluster): string[] => {
    cluster.surge = surge;
    surge.clusters.add(cluster);
    idle.delete(cluster.id);
    if (surge.examples.length < EXAMPLES) surge.examples.push({ ...cluster.seed });
    const earlier: string[] = [];
    for (const member of cluster.members) {
      if (member.inSurge) continue;
      member.inSurge = true;
      earlier.push(member.id);
      addToSurge(surge, member);
      // They were counted as usual traffic; they were not.
      countUsual(groupKey(cluster.watchId, member.intent), member.at, -1);
      countEarly(groupKey(cluster.watchId, member.intent), member.at, -1);
    }
    cluster.members = [];
    // Their texts are not kept: the group's first text stands for each.
    if (earlier.length > 0) learnWords(surge, textShingles(cluster.seed.text), earlier.length);
    return earlier;
  };
  const end = (surge: Surge, at: number, by: 'quiet' | 'reviewer'): SurgeSummary => {
    surges.delete(surge.id);
    for (const cluster of surge.clusters) forget(cluster);
    return summary(surge, 'closed', at, by);
  };
  const closeQuiet = (now: number): SurgeSummary[] => {
    const closed: SurgeSummary[] = [];
    for (const surge of [...surges.values()]) {
      if (surge.busyAt + config.quietMinutes * MINUTE_MS <= now) closed.push(end(surge, now, 'quiet'));
    }
    return closed;
  };
  const openSurgeOf = (watchId: string): Surge | undefined => {
    for (const surge of surges.values()) if (surge.watchId === watchId) return surge;
    return undefined;
  };

  /**
   * A group counts as coming fast: `n` matches within the flood's minutes, and (when the group is older
   * than them) `factor` times its own rate before; then, with the match's intent `flooded`, that is
   * unusual enough — otherwise it must be surging against its watch's usual.
   */
  const fastGroup = (cluster: Cluster, n: number, flooded: boolean, at: number): boolean => {
    const recent = recentTotal(cluster);
    if (recent < n) return false;
    const horizon = (Math.floor(clock / MINUTE_MS) - FLOOD_MINUTES + 1) * MINUTE_MS;
    const before = horizon - cluster.born;
    if (before > 0 && recent < (config.factor * (cluster.total - recent) * (clock - horizon)) / before)
      return false;
    // The match's intent is flooded: that says its count is unusual, over the flood's own minutes.
    if (flooded) return true;
    return isSurging(cluster, at, n);
  };
  /** A near-duplicate group is a surge when it is big enough and its watch and intents are unusually busy. */
  const isSurging = (cluster: Cluster, at: number, needed: number): boolean => {
    const perIntent = clusterCount(cluster);
    const total = perIntent.reduce((a, b) => a + b, 0);
    if (total < needed) return false;
    // A wording people use all day (in a big brand's traffic) has a usual rate of its own: its count
    // before the window, over the time it has been seen before the window.
    const before = windowStart() * MINUTE_MS - cluster.born;
    if (before > 0 && total < config.factor * ((cluster.total - total) / before) * windowMs) return false;
    // The watch and intents are compared with their usual count over the minutes since the group
    // appeared (the whole window at most): a flood two minutes old is not diluted by eight quiet ones.
    const from = Math.max(windowStart(), Math.floor(cluster.born / MINUTE_MS));
    const minutes = Math.floor(clock / MINUTE_MS) - from + 1;
    let current = 0;
    let usualCount = 0;
    for (let i = 0; i < perIntent.length; i++) {
      if ((perIntent[i] as number) < total * INTENT_SHARE) continue;
      const key = groupKey(cluster.watchId, INTENTS[i] as Intent);
      current += inWindow(key, from);
      // Before the first full hour: at least a window watched before the group appeared, or nothing to
      // compare with (a busy brand's first minutes would otherwise look like one long flood) — then
      // only a group of `factor` times `minCount` within the window is one.
      const usualHere = expected(key, at, from, minutes, windowMs);
      if (usualHere === undefined) return total >= config.factor * config.minCount;
      usualCount += usualHere;
    }
    return current >= config.factor * usualCount;
  };

  // --- state -----------------------------------------------------------------------------------
  if (options.state !== undefined) restore(options.state);

  function restore(state: SurgeState) {
    if (state?.version !== 1) throw new Error('surge detector: unknown state (expected version 1)');
    clock = state.clock ?? Number.NEGATIVE_INFINITY;
    prunedHour = state.prunedHour ?? Number.NEGATIVE_INFINITY;
    nextCluster = state.nextCluster;
    baseline.groups.clear();
    baseline.observedFromHour = state.observedFromHour ?? Number.NaN;
    for (const [key, hours] of state.baseline)
      baseline.groups.set(key, new Map(hours.map(([h, n]) => [h, n])));
    for (const [key, buckets] of state.windows)
      windows.set(
        key,
        buckets.map(([m, n]) => [m, n]),
      );
    for (const [watchId, at] of state.reviewerClosed ?? []) reviewerClosed.set(watchId, at);
    startedAt = state.startedAt ?? Number.NaN;
    early.clear();
    for (const [key, minutes] of state.early ?? []) early.set(key, new Map(minutes.map(([m, n]) => [m, n])));
    for (const [watchId, matches, counts] of state.texts)
      texts.set(watchId, { matches, counts: new Map(counts.map(([h, n]) => [h, n])) });
    const members: Member[] = (state.members ?? []).map(([id, at, intent, platform, inSurge]) => ({
      id,
      at,
      intent,
      platform,
      inSurge,
    }));
    const bySurge = new Map<string, Surge>();
    for (const s of state.surges) {
      const surge: Surge = {
        ...s,
        intents: { ...s.intents },
        platforms: { ...s.platforms },
        examples: s.examples.map((e) => ({ ...e })),
        perMinute: s.perMinute.map(([m, n]) => [m, n]),
        clusters: new Set(),
        words: new Map((s.words ?? []).map(([h, n]) => [h, n])),
        texts: s.texts ?? 0,
        nextSweep: s.nextSweep ?? config.minCount,
      };
      surges.set(surge.id, surge);
      bySurge.set(surge.id, surge);
    }
    for (const c of state.clusters) {
      if (c.signature.length !== SIGNATURE_SIZE)
        throw new Error(`surge detector: cluster ${c.id} has a bad signature`);
      const surge = c.surge === null ? undefined : bySurge.get(c.surge);
      const cluster: Cluster = {
        id: c.id,
        watchId: c.watchId,
        signature: Uint32Array.from(c.signature),
        seed: { ...c.seed },
        born: c.born,
        total: c.total,
        buckets: c.buckets.map((b) => [...b]),
        members: c.members.map((i) => {
          const member = members[i];
          if (member === undefined)
            throw new Error(`surge detector: cluster ${c.id} refers to no member ${i}`);
          return member;
        }),
        last: c.last,
        surge,
        visited: 0,
      };
      clusterTotal++;
      indexCluster(cluster);
      if (surge === undefined) idle.set(cluster.id, cluster);
      else surge.clusters.add(cluster);
    }
  }

  const toJSON = (): SurgeState => {
    const clusters: Cluster[] = [...idle.values()];
    for (const surge of surges.values()) clusters.push(...surge.clusters);
    // A match remembered by several groups is one member: written once, referred to by index.
    const memberIndex = new Map<Member, number>();
    const members: [string, number, Intent, Platform, boolean][] = [];
    const indexOf = (member: Member): number => {
      let i = memberIndex.get(member);
      if (i === undefined) {
        i = members.length;
        memberIndex.set(member, i);
        members.push([member.id, member.at, member.intent, member.platform, member.inSurge]);
      }
      return i;
    };
    const clusterStates = clusters.map((c) => ({
      id: c.id,
      watchId: c.watchId,
      signature: [...c.signature],
      seed: { ...c.seed },
      born: c.born,
      total: c.total,
      buckets: c.buckets.map((b) => [...b]),
      members: c.members.map(indexOf),
      last: c.last,
      surge: c.surge?.id ?? null,
    }));
    return {
      version: 1,
      clock: Number.isFinite(clock) ? clock : null,
      prunedHour: Number.isFinite(prunedHour) ? prunedHour : null,
      texts: [...texts].map(([watchId, text]) => [watchId, text.matches, [...text.counts]]),
      observedFromHour: Number.isNaN(baseline.observedFromHour) ? null : baseline.observedFromHour,
      nextCluster,
      baseline: [...baseline.groups].map(([key, hours]) => [key, [...hours]]),
      windows: [...windows].map(([key, buckets]) => [key, buckets.map(([m, n]) => [m, n] as const)]),
      // Idle clusters in least-recently-seen order, so a restored detector evicts the same ones.
      clusters: clusterStates,
      members,
      reviewerClosed: [...reviewerClosed].filter(([, at]) => at + windowMs > clock),
      startedAt: Number.isFinite(startedAt) ? startedAt : null,
      early: [...early].map(([key, minutes]) => [key, [...minutes]]),
      surges: [...surges.values()].map((s) => ({
        id: s.id,
        watchId: s.watchId,
        detectedAt: s.detectedAt,
        firstAt: s.firstAt,
        lastAt: s.lastAt,
        busyAt: s.busyAt,
        count: s.count,
        intents: { ...s.intents },
        platforms: { ...s.platforms },
        examples: s.examples.map((e) => ({ ...e })),
        perMinute: s.perMinute.map(([m, n]) => [m, n] as const),
        words: [...s.words],
        texts: s.texts,
        nextSweep: s.nextSweep,
      })),
    };
  };

  /** Within a window after a reviewer closed a surge in the match's watch (nothing is "forming" then). */
  const afterReviewerClose = (match: SurgeMatch): boolean => {
    const closedAt = reviewerClosed.get(match.watchId);
    return closedAt !== undefined && match.at < closedAt + windowMs;
  };

  // --- one match -------------------------------------------------------------------------------
  const add = (match: SurgeMatch): SurgeVerdict => {
    checkMatch(match);
    if (Number.isNaN(baseline.observedFromHour)) baseline.observedFromHour = firstFullHour(match.at);
    if (Number.isNaN(startedAt)) startedAt = match.at;
    if (match.at > clock) clock = match.at;
    const hour = hourOf(clock);
    if (hour > prunedHour) {
      pruneBaseline(baseline, hour, config.baselineWeeks);
      const from = windowStart();
      for (const [key, buckets] of windows) {
        if (buckets.every(([minute]) => minute < from)) windows.delete(key);
      }
      prunedHour = hour;
      if (!isEarly(clock)) early.clear();
    }
    const closed = closeQuiet(clock);
    const key = groupKey(match.watchId, match.intent);
    const minute = Math.floor(match.at / MINUTE_MS);
    countWindow(key, minute);
    if (match.at > clock - FLOOD_SHORT_MS) countLately(key, match.at);
    const member: Member = {
      id: match.id,
      at: match.at,
      intent: match.intent,
      platform: match.platform,
      inSurge: false,
    };
    const ordinary = (): SurgeVerdict => {
      countUsual(key, match.at, 1);
      countEarly(key, match.at, 1);
      return { kind: 'ordinary', closed };
    };
    if (!config.enabled) return ordinary();
    expireClusters();
    const shingles = textShingles(match.text);
    const signature = minHash(distinctive(match.watchId, shingles));
    // Which bigrams a watch's posts share is learned from its usual traffic: not from a flood, nor from a
    // group of near-duplicates forming (their shared words would stop counting just as they matter).
    const busy = watchIsBusy(match.watchId, match.at);
    let learning = !busy;
    if (signature === undefined) {
      if (learning) learnText(match.watchId, shingles);
      ordinary();
      // Too short to compare with others; held like the rest of a flood of its intent while its surge
      // forms (a reconsider may take it in).
      const open = openSurgeOf(match.watchId);
      if (
        floodLikely(key, match.at, intentFlooded(key, match.at)) &&
        !afterReviewerClose(match) &&
        (open === undefined || open.texts < config.minCount)
      )
        return { kind: 'ordinary', closed, forming: { count: 1, flood: true } };
      return { kind: 'ordinary', closed };
    }

    const similar = similarClusters(match.watchId, signature);
    const inSurge = similar.find((c) => c.surge !== undefined)?.surge;
    if (inSurge !== undefined) {
      addToSurge(inSurge, member);
      learnWords(inSurge, shingles, 1);
      const earlier = sweep(inSurge);
      return { kind: 'joined', surge: summary(inSurge, 'open'), earlier, closed };
    }
    // The match's intent is flooded in its watch (`minCount` or more over two minutes, `factor` times
    // the usual): an outage said in many wordings, each group of near-duplicates still small.
    const flooded = intentFlooded(key, match.at);
    // Like none of an open surge's groups, but saying what its members say (an outage's hundredth
    // wording) while the flood goes on (the match's intent, or one of the surge's own, flooded): it
    // joins. Once the surge has `minCount` members to tell.
    const open = openSurgeOf(match.watchId);
    if (
      open !== undefined &&
      open.texts >= config.minCount &&
      (flooded || surgeFlooded(open)) &&
      profileScore(open, shingles) >= PROFILE_MIN
    ) {
      member.inSurge = true;
      addToSurge(open, member);
      learnWords(open, shingles, 1);
      const earlier = sweep(open);
      return { kind: 'joined', surge: summary(open, 'open'), earlier, closed };
    }
    if (similar.length === 0) {
      const cluster: Cluster = {
        id: nextCluster++,
        watchId: match.watchId,
        signature,
        seed: { id: match.id, text: match.text },
        born: match.at,
        total: 0,
        buckets: [],
        members: [],
        last: match.at,
        surge: undefined,
        visited: 0,
      };
      clusterTotal++;
      indexCluster(cluster);
      similar.push(cluster);
    }
    // Counted in every group it resembles: a group's count is how many recent matches say much the same.
    for (const cluster of similar) {
      if (windowTotal(cluster) + 1 >= attachCount) learning = false;
      countIn(cluster, member);
    }
    let surge = openSurgeOf(match.watchId);
    const kind = surge === undefined ? 'started' : 'joined';
    // While the intent is flooded, a group joins an open surge from `attachCount` matches, or from
    // three when its first text also says what the surge's members say; while it is flooded (which
    // includes `minCount` of it within ten seconds), a group of three starts one. Not while it is only
    // nearly flooded (half of that): everyday traffic has such clumps of one intent — a conversation,
    // an update's questions — with three in words alike enough, and made surges of a normal hour.
    // Small groups count only when fast: that many within the flood's minutes, and (when the group is
    // older than them) `factor` times its own rate before — the flood of their intent would make any
    // everyday wording of the watch look unusual.
    const fast = (cluster: Cluster, n: number): boolean => fastGroup(cluster, n, flooded, match.at);
    const earlier: string[] = [];
    for (const cluster of similar) {
      if (cluster.surge !== undefined) continue;
      // Another group joins an open surge only while the flood goes on (its intent or one of the
      // surge's own flooded): later, everyday wordings would be taken for the outage's.
      const surging =
        surge !== undefined
          ? (flooded || surgeFlooded(surge)) &&
            (fast(cluster, attachCount) ||
              (surge.texts >= config.minCount &&
                fast(cluster, 3) &&
                profileScore(surge, textShingles(cluster.seed.text)) >= PROFILE_MIN))
          : isSurging(cluster, match.at, config.minCount) ||
            // Not for a window after a reviewer closed a surge in the watch: the flood they closed
            // may still be in these minutes, and they asked for its matches one by one.
            (flooded && !afterReviewerClose(match) && fastGroup(cluster, 3, true, match.at));
      if (!surging) continue;
      if (surge === undefined) {
        surge = {
          id: `surge:${match.id}`,
          watchId: match.watchId,
          detectedAt: match.at,
          firstAt: match.at,
          lastAt: match.at,
          busyAt: match.at,
          count: 0,
          intents: {},
          platforms: {},
          examples: [],
          perMinute: [],
          clusters: new Set(),
          words: new Map(),
          texts: 0,
          nextSweep: config.minCount,
        };
        surges.set(surge.id, surge);
        member.inSurge = true;
        addToSurge(surge, member);
        learnWords(surge, shingles, 1);
      }
      for (const id of attach(surge, cluster)) if (id !== match.id) earlier.push(id);
    }
    if (surge === undefined || !member.inSurge) {
      if (learning) learnText(match.watchId, shingles);
      const verdict = ordinary();
      const afterClose = afterReviewerClose(match);
      // Forming: a group that would already be a surge at a quarter of the size or, while its watch or
      // intent is flooded (or its watch has a surge open), three within the flood's minutes: another
      // wording of the same outage. The same baseline and wording checks as a surge's: a big brand's
      // everyday wordings repeat all day and are not held.
      let forming = 0;
      const flood = busy || flooded || surge !== undefined;
      for (const cluster of similar) {
        if (cluster.surge !== undefined || afterClose) continue;
        if (flood ? fast(cluster, 3) : isSurging(cluster, match.at, attachCount))
          forming = Math.max(forming, windowTotal(cluster));
      }
      // Its intent is flooded and no surge is open in the watch yet, or one too new to tell what its
      // members say: one is all but certain to form within seconds, and this match may well be part of
      // it (taken in when the surge has `minCount` members and looks for the ones that say the same).
      if (forming > 0) return { kind: 'ordinary', closed, forming: { count: forming } };
      if (
        floodLikely(key, match.at, flooded) &&
        !afterClose &&
        (surge === undefined || surge.texts < config.minCount)
      )
        return { kind: 'ordinary', closed, forming: { count: 1, flood: true } };
      return verdict;
    }
    earlier.push(...sweep(surge));
    return { kind, surge: summary(surge, 'open'), earlier, closed };
  };

  /** Matches `reconsider` took in, within two windows (asked twice, they join once). */
  const adopted = new Map<string, number>();
  const reconsider = (match: SurgeMatch): SurgeVerdict => {
    checkMatch(match);
    const none: SurgeVerdict = { kind: 'ordinary', closed: [] };
    const open = openSurgeOf(match.watchId);
    if (!config.enabled || open === undefined || open.texts < config.minCount) return none;
    if (match.at < open.firstAt - FLOOD_MINUTES * MINUTE_MS) return none;
    const key = groupKey(match.watchId, match.intent);
    if (!(intentFlooded(key, match.at) || surgeFlooded(open))) return none;
    // A group that joined a surge has handed its members over (and forgotten them).
    if (adopted.has(match.id)) return none;
    // The match as its groups remember it (if they still do): it must not join again through them; and
    // whether one of them is coming fast now (near-duplicates arrived since: most likely the outage's
    // in a wording of its own, which the surge takes in as the group grows).
    let member: Member | undefined;
    let forming = 0;
    for (const cluster of idle.values()) {
      if (cluster.watchId !== match.watchId || cluster.last < match.at) continue;
      const found = cluster.members.find((m) => m.id === match.id);
      if (found === undefined) continue;
      member ??= found;
      // (The flood goes on: checked above.)
      if (fastGroup(cluster, 3, true, match.at)) forming = Math.max(forming, windowTotal(cluster));
    }
    if (member?.inSurge) return none;
    const shingles = textShingles(match.text);
    if (profileScore(open, shingles) < PROFILE_MIN)
      return forming > 0 && !afterReviewerClose(match) ? { ...none, forming: { count: forming } } : none;
    const joining: Member = member ?? {
      id: match.id,
      at: match.at,
      intent: match.intent,
      platform: match.platform,
      inSurge: false,
    };
    joining.inSurge = true;
    adopted.set(match.id, match.at);
    for (const [id, at] of adopted) if (at < clock - 2 * windowMs) adopted.delete(id);
    addToSurge(open, joining);
    learnWords(open, shingles, 1);
    countUsual(key, match.at, -1);
    countEarly(key, match.at, -1);
    return { kind: 'joined', surge: summary(open, 'open'), earlier: [], closed: [] };
  };

  return {
    add,
    closeQuiet: (now) => {
      if (now > clock) clock = now;
      return closeQuiet(now);
    },
    close: (surgeId, now) => {
      const surge = surges.get(surgeId);
      if (surge === undefined) return undefined;
      reviewerClosed.set(surge.watchId, Math.max(now, reviewerClosed.get(surge.watchId) ?? now));
      return end(surge, now, 'reviewer');
    },
    openSurges: () => [...surges.values()].map((s) => summary(s, 'open')),
    reconsider,
    resemblance: (match) => {
      const open = openSurgeOf(match.watchId);
      if (!config.enabled || open === undefined || open.texts < config.minCount) return null;
      const usualText = texts.get(match.watchId);
      if (usualText === undefined || usualText.matches < COMMON_MIN_MATCHES) return null;
      // As profileScore, over the bigrams seen in the surge or the watch's matches only: a bigram seen
      // in neither says nothing either way (profileScore's smoothing would make it count for the
      // smaller of the two), so a post in words nobody used is not like the surge.
      const set = textShingles(match.text);
      if (set.length === 0) return 0;
      let sum = 0;
      for (const shingle of set) {
        const inSurge = open.words.get(shingle) ?? 0;
        const inUsual = usualText.counts.get(shingle) ?? 0;
        if (inSurge + inUsual === 0) continue;
        sum += Math.log((inSurge + 0.5) / (open.texts + 1) / ((inUsual + 0.5) / (usualText.matches + 1)));
      }
      return sum / set.length;
    },
    usualPerHour: (watchId, intent, at) => usual(groupKey(watchId, intent), at),
    clusterCount: () => clusterTotal,
    toJSON,
  };
}

/** A detector that has seen `history` (stored matches, any order): the state after a restart. */
export function rebuildFrom(
  history: readonly SurgeMatch[],
  options: Omit<SurgeDetectorOptions, 'state'> = {},
): SurgeDetector {
  const detector = createSurgeDetector(options);
  const sorted = [...history].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const match of sorted) detector.add(match);
  return detector;
}
