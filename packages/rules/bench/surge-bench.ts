/**
 * Surge detection throughput and memory with many open near-duplicate groups ("clusters"): each match
 * is normalised text in, verdict out, on one thread. Texts are ~100 characters, the start of a
 * realistic post and a random tail, so that every one opens a group of its own; time advances so that the window
 * (10 minutes) always holds about the number of groups asked for.
 *
 *   node bench/surge-bench.ts [--clusters 10000] [--seconds 1.5]
 *
 * `npm run bench:surges` runs it with `--expose-gc` for steadier memory figures (heap + array buffers).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { normalizeText } from '../src/normalize.ts';
import { createSurgeDetector, type SurgeDetector, type SurgeMatch } from '../src/surge/detector.ts';
import { createBrands, createPosts, createRandom } from './world.ts';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '1.5' },
    /** Internal: run one scenario (each runs in a process of its own, so memory figures are its own). */
    only: { type: 'string' },
  },
});
const CLUSTERS = Number(values.clusters);
const SECONDS = Number(values.seconds);
const WINDOW_MS = 10 * 60_000;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heapMiB = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / 2 ** 20;
};

const random = createRandom(7);
/** Kana and the 2,000 commonest-block kanji, at random: a text nobody else writes. */
const gibberish = (n: number) => {
  let s = '';
  for (let i = 0; i < n; i++)
    s += String.fromCharCode(
      random() < 0.5 ? 0x3041 + Math.floor(random() * 82) : 0x4e00 + Math.floor(random() * 2000),
    );
  return s;
};
const brands = createBrands(1_000);
const names = createPosts(2_000, brands).map((p) => p.text.slice(0, 20));
/** A unique text of about 100 characters: the start of a realistic post, then words nobody else writes. */
const uniqueText = (i: number) => normalizeText(`${names[i % names.length]} ${gibberish(80)}`);
const OUTAGE = ['ログインできない', 'ログインできないんだけど', 'ログイン出来ない…', 'にログインできない！'];

interface Scenario {
  readonly name: string;
  readonly watches: number;
  /** Share of matches that are near-duplicates of an outage (0: every match opens a group). */
  readonly burst: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: `1 watch, ${CLUSTERS.toLocaleString('en-US')} open groups`, watches: 1, burst: 0 },
  { name: `1,000 watches, ${CLUSTERS.toLocaleString('en-US')} open groups`, watches: 1_000, burst: 0 },
  { name: `1 watch, ${CLUSTERS.toLocaleString('en-US')} groups, half an outage`, watches: 1, burst: 0.5 },
];

if (values.only === undefined) {
  console.log(`kikimimi surge benchmark — Node ${process.version}, default configuration`);
  console.log(
    'scenario                                    | fill ms | groups | mem MiB | state KiB | matches/s | surges',
  );
  SCENARIOS.forEach((_, i) => {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), '--only', String(i)];
    execFileSync(process.execPath, [...args, '--clusters', String(CLUSTERS), '--seconds', String(SECONDS)], {
      stdio: 'inherit',
    });
  });
}

for (const scenario of values.only === undefined ? [] : [SCENARIOS[Number(values.only)] as Scenario]) {
  const step = WINDOW_MS / CLUSTERS; // ms between matches: the window holds CLUSTERS unique texts
  let at = Date.parse('2026-11-24T00:00:00Z');
  let serial = 0;
  const next = (): SurgeMatch => {
    serial++;
    at += step;
    const outage = scenario.burst > 0 && random() < scenario.burst;
    return {
      id: `m${serial}`,
      at,
      watchId: `w${serial % scenario.watches}`,
      intent: outage ? 'trouble' : 'question',
      text: outage ? normalizeText(`ブクログ${OUTAGE[serial % OUTAGE.length]}`) : uniqueText(serial),
      platform: serial % 2 ? 'x' : 'mastodon',
    };
  };
  // Matches are prepared beforehand: the figure is the detector's, not the text generator's.
  const prepared = Array.from({ length: 200_000 }, next);
  let cursor = 0;
  const take = () => {
    if (cursor === prepared.length) {
      for (let i = 0; i < prepared.length; i++) prepared[i] = next();
      cursor = 0;
    }
    return prepared[cursor++] as SurgeMatch;
  };

  gc();
  const before = heapMiB();
  const detector: SurgeDetector = createSurgeDetector();
  const fillStart = performance.now();
  for (let i = 0; i < CLUSTERS; i++) detector.add(take());
  const fillMs = performance.now() - fillStart;
  gc();
  const memory = heapMiB() - before;
  const stateKiB = JSON.stringify(detector.toJSON()).length / 1024;

  let done = 0;
  const surges = new Set<string>();
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    for (let k = 0; k < 500; k++) {
      const verdict = detector.add(take());
      if (verdict.kind !== 'ordinary') surges.add(verdict.surge.id);
    }
    done += 500;
  }
  const speed = done / ((performance.now() - start) / 1000);
  console.log(
    [
      scenario.name.padEnd(43),
      fillMs.toFixed(0).padStart(7),
      String(detector.clusterCount()).padStart(6),
      memory.toFixed(1).padStart(7),
      stateKiB.toFixed(0).padStart(9),
      Math.round(speed).toLocaleString('en-US').padStart(9),
      String(surges.size).padStart(6),
    ].join(' | '),
  );
}
