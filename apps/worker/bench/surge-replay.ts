/**
 * The surge benchmark's scenario replayed through the surge detector alone, in a second, for tuning
 * the detector (issue 15): no worker, no Discord, no database. The same generator and configuration as
 * apps/worker/bench/surge-bench.ts; each post decided by the rules engine (its intent) and handed to
 * the detector in time order, on the posts' own clock. Held matches are asked again as the worker asks
 * (pipeline/surge.ts): two seconds before their hold ends, or as soon as the watch's surge has
 * `minCount` members; matches handed on in the 15 s before their intent was seen flooded are held back
 * too (as if their message had not gone out yet: in the worker that depends on the channel's queue).
 *
 *   node apps/worker/bench/surge-replay.ts [--history-h 1] [--normal-per-s 1] [--burst 1000] [--burst-s 120]
 *                                          [--calm-s 30] [--arrivals random|even] [--seed 1]
 *
 * Prints when the surge started, how many outage posts never became members (neither at once nor
 * later through `earlier`: each of them gets a review message of its own), by 10 s of the burst, and
 * how many normal matches were taken into the surge. Printed, never asserted.
 */
import { parseArgs } from 'node:util';
import {
  createSurgeDetector,
  loadConfig,
  normalizeText,
  type SurgeMatch,
  type SurgeVerdict,
} from '@kikimimi/rules';
import { createPostGenerator, demoBrand, type GeneratedPost } from '@kikimimi/sandbox';
import { FLOOD_HOLD_MS, RECONSIDER_EARLY_MS } from '../src/pipeline/surge.ts';
import { arrivalsOptions, HOLDING_CONFIG, normalTimes, toPost } from '../test/surge-scenario.ts';

const { values } = parseArgs({
  options: {
    'history-h': { type: 'string', default: '1' },
    'normal-per-s': { type: 'string', default: '1' },
    burst: { type: 'string', default: '1000' },
    'burst-s': { type: 'string', default: '120' },
    'calm-s': { type: 'string', default: '30' },
    arrivals: { type: 'string', default: 'random' },
    seed: { type: 'string', default: '1' },
  },
});
const historyHours = Number(values['history-h']);
const perSecond = Number(values['normal-per-s']);
const burstMs = Number(values['burst-s']) * 1000;
const calmMs = Number(values['calm-s']) * 1000;

// With the hold on (holdSeconds 60): what the detector does with the matches it holds.
const loaded = loadConfig(HOLDING_CONFIG);
if (!loaded.ok) throw new Error('the surge configuration does not load');
const { engine } = loaded;

const start = Date.parse('2026-12-07T10:00:00Z');
const burstStart = start + calmMs;
const end = burstStart + burstMs + calmMs;
const brandPosts = (seed: number, count: number, from: number, span: number) => {
  const generator = createPostGenerator({ seed, brands: [demoBrand], now: () => new Date(from) });
  return Array.from({ length: count }, (_, i) => {
    let post = generator.next();
    while (post.brand === undefined) post = generator.next();
    return { at: from + (i * span) / count, post, outage: false };
  });
};
const history = brandPosts(
  16,
  Math.floor(historyHours * 3_600 * perSecond),
  start - historyHours * 3_600_000,
  historyHours * 3_600_000,
);
// The benchmark's posts: its normal traffic and then its burst from one generator (playScenario).
const scenario = createPostGenerator({ seed: 15, brands: [demoBrand], now: () => new Date(start) });
const { arrivals, seed } = arrivalsOptions(values);
const normal = normalTimes(start, end, Math.floor(((end - start) / 1000) * perSecond), arrivals, seed).map(
  (at) => {
    let post = scenario.next();
    while (post.brand === undefined) post = scenario.next();
    return { at, post, outage: false };
  },
);
const burst = scenario
  .outageBurst({ start: new Date(burstStart), count: Number(values.burst), durationMs: burstMs })
  .map((post) => ({ at: post.createdAt.getTime(), post, outage: true }));
const timeline = [...history, ...[...normal, ...burst].sort((a, b) => a.at - b.at)];

const detector = createSurgeDetector({ config: loaded.config.surges });
const verdicts = new Map<string, { verdict: SurgeVerdict; at: number; outage: boolean }>();
const earlier = new Set<string>();
let startedAt: number | null = null;
/** Held matches, asked again when their hold is over (as the worker does). */
const holdMs = loaded.config.surges.holdSeconds * 1000;
const rechecks: { due: number; match: SurgeMatch }[] = [];
const reconsidered = new Set<string>();
const recheckUntil = (now: number) => {
  while (rechecks.length > 0 && (rechecks[0] as { due: number }).due <= now) {
    const { match } = rechecks.shift() as { match: SurgeMatch };
    if (earlier.has(match.id)) continue;
    if (detector.reconsider(match).kind !== 'ordinary') reconsidered.add(match.id);
  }
};
/** Per watch and intent: matches handed on at once in the last FLOOD_HOLD_MS (the worker's holdBack). */
const handedOn = new Map<string, SurgeMatch[]>();
const heldBack = new Set<string>();
/** Matches handed on at once while their watch had an open surge: how much each resembled it. */
const resembling: { score: number; outage: boolean; intent: string }[] = [];
const began = performance.now();
timeline.forEach(({ at, post, outage }: { at: number; post: GeneratedPost; outage: boolean }, i) => {
  const decision = engine.decide(toPost({ ...post, createdAt: new Date(at) }), { now: new Date(at) });
  if (!decision.matched || decision.suppressed) return;
  recheckUntil(at);
  const id = `m${i}`;
  const match: SurgeMatch = {
    id,
    at,
    watchId: decision.watches[0] as string,
    intent: decision.intent,
    text: normalizeText(post.text),
    platform: 'x',
  };
  const verdict = detector.add(match);
  if (verdict.kind === 'ordinary' && !verdict.forming) {
    const score = detector.resemblance(match);
    if (score !== null) resembling.push({ score, outage, intent: match.intent });
  }
  if (verdict.kind === 'ordinary' && verdict.forming) {
    const ms = verdict.forming.flood ? Math.min(holdMs, FLOOD_HOLD_MS) : holdMs;
    rechecks.push({ due: at + ms - RECONSIDER_EARLY_MS, match });
    rechecks.sort((a, b) => a.due - b.due);
  }
  // As the worker does: once the watch's surge has minCount members, every held match is asked now.
  if (
    detector.openSurges().some((s) => s.watchId === match.watchId && s.count >= loaded.config.surges.minCount)
  ) {
    for (const r of rechecks) if (r.match.watchId === match.watchId) r.due = Math.min(r.due, at);
    recheckUntil(at);
  }
  // As the worker does: once the intent is seen flooded, the matches of it handed on at once just
  // before wait too (if their message has not gone out: assumed here) and are asked again.
  const key = `${match.watchId}:${match.intent}`;
  if (verdict.kind === 'ordinary' && !verdict.forming) {
    handedOn.set(key, [...(handedOn.get(key) ?? []).filter((m) => m.at > at - FLOOD_HOLD_MS), match]);
  } else if (verdict.kind === 'started' || (verdict.kind === 'ordinary' && verdict.forming?.flood)) {
    for (const held of handedOn.get(key) ?? []) {
      if (held.at + FLOOD_HOLD_MS - RECONSIDER_EARLY_MS <= at) continue;
      heldBack.add(held.id);
      rechecks.push({ due: held.at + FLOOD_HOLD_MS - RECONSIDER_EARLY_MS, match: held });
    }
    rechecks.sort((a, b) => a.due - b.due);
    handedOn.delete(key);
  }
  if (at < start) return;
  verdicts.set(id, { verdict, at, outage });
  if (verdict.kind !== 'ordinary') {
    for (const e of verdict.earlier) earlier.add(e);
    if (verdict.kind === 'started' && startedAt === null) startedAt = at;
  }
});
recheckUntil(Number.POSITIVE_INFINITY);
const member = (id: string, verdict: SurgeVerdict) =>
  verdict.kind !== 'ordinary' || earlier.has(id) || reconsidered.has(id);
const alone: Record<string, number> = {};
let outageTotal = 0;
let outageAlone = 0;
let normalTotal = 0;
let normalTaken = 0;
let outageHeld = 0;
let outageAtOnce = 0;
let outageHeldBack = 0;
let outageHeldBackJoined = 0;
const atOnce: Record<string, number> = {};
let normalHeld = 0;
for (const [id, { verdict, at, outage }] of verdicts) {
  if (outage) {
    outageTotal++;
    if (heldBack.has(id)) {
      outageHeldBack++;
      if (member(id, verdict)) outageHeldBackJoined++;
    }
    if (verdict.kind === 'ordinary' && !verdict.forming) {
      outageAtOnce++;
      const bucket = `${Math.floor((at - burstStart) / 10_000) * 10}s`;
      atOnce[bucket] = (atOnce[bucket] ?? 0) + 1;
    }
    if (member(id, verdict)) continue;
    outageAlone++;
    if (verdict.kind === 'ordinary' && verdict.forming) outageHeld++;
    const bucket = `${Math.floor((at - burstStart) / 10_000) * 10}s`;
    alone[bucket] = (alone[bucket] ?? 0) + 1;
  } else {
    normalTotal++;
    if (member(id, verdict)) normalTaken++;
    else if (verdict.kind === 'ordinary' && verdict.forming) normalHeld++;
  }
}
console.log(
  `surge replay: ${history.length} posts of history (${historyHours} h), then ${values.burst} outage posts over ${values['burst-s']} s among ${perSecond} normal post/s (${values['calm-s']} s calm before and after); ${((performance.now() - began) / 1000).toFixed(1)} s`,
);
console.log(
  `  surges: ${new Set([...verdicts.values()].flatMap(({ verdict }) => (verdict.kind === 'ordinary' ? [] : [verdict.surge.id]))).size}; started ${startedAt === null ? 'never' : `${((startedAt - burstStart) / 1000).toFixed(1)} s after the burst began`}`,
);
console.log(
  `  outage matches never in the surge: ${outageAlone} of ${outageTotal} (${outageHeld} of them held first); by 10 s of the burst: ${JSON.stringify(alone)}`,
);
console.log(
  `  outage matches sent for a review of their own at once (members later or not): ${outageAtOnce}; by 10 s of the burst: ${JSON.stringify(atOnce)}`,
);
console.log(
  `  of those, held back once their intent was seen flooded (if their message had not gone out): ${outageHeldBack}, of which taken into the surge when asked again or by its sweep: ${outageHeldBackJoined}`,
);
console.log(
  `  normal matches taken into the surge: ${normalTaken} of ${normalTotal}; held for a surge that did not take them: ${normalHeld}`,
);
if (process.env.SURGE_REPLAY_DEBUG) {
  // Each surge: when it started (from the burst's start), its intents, and its first members' texts.
  const texts = new Map(timeline.map(({ post }, i) => [`m${i}`, post.text]));
  for (const surge of new Map(
    [...verdicts.values()].flatMap(({ verdict }) =>
      verdict.kind === 'ordinary' ? [] : [[verdict.surge.id, verdict.surge] as const],
    ),
  ).values()) {
    const firstMembers = [...verdicts]
      .filter(([, { verdict }]) => verdict.kind !== 'ordinary' && verdict.surge.id === surge.id)
      .slice(0, 6)
      .map(
        ([id, { verdict, at }]) =>
          `${((at - burstStart) / 1000).toFixed(1)} s ${verdict.kind} ${JSON.stringify(texts.get(id))}`,
      );
    console.log(
      `  surge ${surge.id}: started ${((surge.detectedAt - burstStart) / 1000).toFixed(1)} s, ${surge.count} members, intents ${JSON.stringify(surge.intents)}\n    ${firstMembers.join('\n    ')}`,
    );
  }
  for (const outage of [true, false]) {
    const scores = resembling.filter((r) => r.outage === outage);
    const by = (min: number) => scores.filter((r) => r.score >= min).length;
    console.log(
      `  ${outage ? 'outage' : 'normal'} matches handed on during the surge: ${scores.length}; resemblance > 0: ${scores.filter((r) => r.score > 0).length}, ≥ 0.05: ${by(0.05)}, ≥ 0.1: ${by(0.1)}, ≥ 0.15: ${by(0.15)}, ≥ 0.2: ${by(0.2)}, ≥ 0.3: ${by(0.3)}; by intent ≥ 0.1: ${JSON.stringify(
        Object.groupBy(
          scores.filter((r) => r.score >= 0.1),
          (r) => r.intent,
        ),
        (_key, v) => (Array.isArray(v) ? v.length : v),
      )}`,
    );
  }
}
