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
       * same baseline and wording checks), or its watch is flooded or has a surge open and the group
       * has three or more matches. Its own review can wait a little (`holdSeconds`) for the surge. Never
       * set before the detector has watched a full hour (nothing is usual yet), nor for a window after
       * a reviewer closed a surge in the watch.
       */
      readonly forming?: { readonly count: number };
    }
  | {
      /** `started`: this match made a new surge; `joined`: it belongs to an open one. */
      readonly kind: 'started' | 'joined';
      readonly surge: SurgeSummary;
      /**
       * Earlier matches (ids, the most recent 200 at most) that were ordinary until now and belong to
       * the surge: their near-duplicate group has just become part of it.
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
const INTENT_SHARE = 0.25;
/**
 * Bigrams in at least this share of a watch's recent matches say nothing about what a post says (the
 * brand's name is in all of them): they are left out of the comparison.
 */
const COMMON_SHARE = 0.3;
/** …once the watch has this many matches to tell. */
const COMMON_MIN_MATCHES = 20;
/** Bigram counts are halved when a watch reaches twice this many matches: recent ones weigh most. */
const COMMON_HALF_LIFE = 1_000;

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
 * (README "Surges"). Throws on a configuration the schema refuses, naming the setting.
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
  /** Per group: [minute, count] of the window, oldest first. */
  const windows = new Map<string, [number, number][]>();
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
  /** The usual count in a window of a watch's main intents among `intents` (those with a quarter or more). */
  const usualFor = (watchId: string, intents: Partial<Record<Intent, number>>, at: number): number => {
    let total = 0;
    for (const intent of INTENTS) total += intents[intent] ?? 0;
    let expected = 0;
    for (const intent of INTENTS) {
      if ((intents[intent] ?? 0) < total * INTENT_SHARE) continue;
      expected += (usual(groupKey(watchId, intent), at) * config.windowMinutes) / 60;
    }
    return expected;
  };
  /** The watch has more matches in the window than usual would allow: a flood, not a lesson. */
  const watchIsBusy = (watchId: string, at: number): boolean => {
    let current = 0;
    let expected = 0;
    for (const intent of INTENTS) {
      const key = groupKey(watchId, intent);
      current += inWindow(key);
      expected += (usual(key, at) * config.windowMinutes) / 60;
    }
    return current >= Math.max(config.minCount, config.factor * expected);
  };

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
    }
    cluster.members = [];
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
    let expected = 0;
    perIntent.forEach((n, i) => {
      if (n < total * INTENT_SHARE) return;
      const key = groupKey(cluster.watchId, INTENTS[i] as Intent);
      current += inWindow(key, from);
      expected += (usual(key, at) * minutes) / 60;
    });
    return current >= config.factor * expected;
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
      })),
    };
  };

  // --- one match -------------------------------------------------------------------------------
  const add = (match: SurgeMatch): SurgeVerdict => {
    checkMatch(match);
    if (Number.isNaN(baseline.observedFromHour)) baseline.observedFromHour = firstFullHour(match.at);
    if (match.at > clock) clock = match.at;
    const hour = hourOf(clock);
    if (hour > prunedHour) {
      pruneBaseline(baseline, hour, config.baselineWeeks);
      const from = windowStart();
      for (const [key, buckets] of windows) {
        if (buckets.every(([minute]) => minute < from)) windows.delete(key);
      }
      prunedHour = hour;
    }
    const closed = closeQuiet(clock);
    const key = groupKey(match.watchId, match.intent);
    const minute = Math.floor(match.at / MINUTE_MS);
    countWindow(key, minute);
    const member: Member = {
      id: match.id,
      at: match.at,
      intent: match.intent,
      platform: match.platform,
      inSurge: false,
    };
    const ordinary = (): SurgeVerdict => {
      countUsual(key, match.at, 1);
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
      return ordinary();
    }

    const similar = similarClusters(match.watchId, signature);
    const inSurge = similar.find((c) => c.surge !== undefined)?.surge;
    if (inSurge !== undefined) {
      addToSurge(inSurge, member);
      return { kind: 'joined', surge: summary(inSurge, 'open'), earlier: [], closed };
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
    const earlier: string[] = [];
    for (const cluster of similar) {
      if (cluster.surge !== undefined) continue;
      if (!isSurging(cluster, match.at, surge === undefined ? config.minCount : attachCount)) continue;
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
        };
        surges.set(surge.id, surge);
        member.inSurge = true;
        addToSurge(surge, member);
      }
      for (const id of attach(surge, cluster)) if (id !== match.id) earlier.push(id);
    }
    if (surge === undefined || !member.inSurge) {
      if (learning) learnText(match.watchId, shingles);
      const verdict = ordinary();
      const closedAt = reviewerClosed.get(match.watchId);
      const afterClose = closedAt !== undefined && match.at < closedAt + windowMs;
      // Forming: a group that would already be a surge at a quarter of the size, or, while its watch is
      // flooded (or has a surge open), any group of three or more: another wording of the same outage.
      let forming = 0;
      for (const cluster of similar) {
        if (cluster.surge !== undefined) continue;
        // Only once the detector has watched a full hour: before that nothing is usual yet, and a busy
        // brand's first hour would look like one long flood.
        if (afterClose || !(hourOf(match.at) > baseline.observedFromHour)) continue;
        const total = windowTotal(cluster);
        if ((busy || surge !== undefined) && total >= 3) forming = Math.max(forming, total);
        else if (isSurging(cluster, match.at, attachCount)) forming = Math.max(forming, total);
      }
      return forming > 0 ? { kind: 'ordinary', closed, forming: { count: forming } } : verdict;
    }
    return { kind, surge: summary(surge, 'open'), earlier, closed };
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
