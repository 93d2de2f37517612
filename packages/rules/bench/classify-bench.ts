/**
 * Intent classification throughput: the shipped classifier (dictionaries + learned model) against the
 * dictionaries alone, on the same posts in the same process, in alternating rounds (a shared machine's
 * load then hits both alike).
 *
 *   node bench/classify-bench.ts [--rounds 6] [--seconds 1]
 *
 * Posts: the labelled corpus's texts, normalised as the pipeline does, three joined and cut to 96
 * characters (Japanese, English and mixed). One core, Node 24. Target (issue 13): ≥ 100,000 posts/s.
 *
 * Speeds are posts per second of this process's CPU time (user + system): what one core does. On a
 * shared machine the wall clock also counts the time other processes had the core (printed too, in
 * brackets).
 */
import { parseArgs } from 'node:util';
import { labelledPosts } from '../corpus/intent-training.ts';
import { builtInIntentModel, createClassifier } from '../src/classify/classify.ts';
import { compileModel } from '../src/classify/model.ts';
import { classifierSchema } from '../src/config.ts';
import { normalizeText, splitUrls } from '../src/normalize.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '6' }, seconds: { type: 'string', default: '1' } },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const TARGET = 100_000;

const texts = labelledPosts().map((p) => normalizeText(splitUrls(p.text).prose));
const posts: string[] = [];
for (let i = 0; i < texts.length; i++) {
  const joined = `${texts[i]} ${texts[(i + 7) % texts.length]} ${texts[(i + 13) % texts.length]}`;
  posts.push(joined.slice(0, 96));
}
const average = posts.reduce((n, p) => n + p.length, 0) / posts.length;

const loadStart = performance.now();
compileModel(builtInIntentModel().data); // what loading costs: decoding and checking the stored model
const loadMs = performance.now() - loadStart;

const config = classifierSchema.parse(undefined);
const withModel = createClassifier(config);
const dictionaryOnly = createClassifier(config, {}, { model: null });

interface Speed {
  /** Posts per second of CPU time. */
  cpu: number;
  /** Posts per second of wall-clock time. */
  wall: number;
}

/** Classifies posts round-robin for about SECONDS of wall-clock time. */
function throughput(classify: (text: string) => unknown): Speed {
  let done = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const budget = SECONDS * 1000;
  while (performance.now() - start < budget) {
    for (let k = 0; k < 500; k++) classify(posts[(done + k) % posts.length] as string);
    done += 500;
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpuStart);
  return { cpu: done / ((used.user + used.system) / 1e6), wall: done / wall };
}

const figure = (speed: number) => Math.round(speed).toLocaleString('en-US');

for (const post of posts) {
  withModel.classify(post); // warm-up
  dictionaryOnly.classify(post);
}

console.log(
  `kikimimi intent classification benchmark — Node ${process.version}, ${posts.length} posts (avg ${average.toFixed(0)} chars, ja/en)`,
);
console.log(
  `model: ${builtInIntentModel().data.trainedOn.posts} training posts; compiled in ${loadMs.toFixed(1)} ms`,
);
console.log('round | dictionary + model: posts/s (wall) | dictionary alone: posts/s (wall) | ratio');
const model: number[] = [];
const baseline: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always runs on a warmer or quieter machine.
  const first = round % 2 === 0;
  const a = first ? throughput((t) => withModel.classify(t)) : undefined;
  const b = throughput((t) => dictionaryOnly.classify(t));
  const c = a ?? throughput((t) => withModel.classify(t));
  model.push(c.cpu);
  baseline.push(b.cpu);
  const cell = (speed: Speed, width: number) =>
    `${figure(speed.cpu)} (${figure(speed.wall)})`.padStart(width);
  console.log(
    `${String(round + 1).padStart(5)} | ${cell(c, 34)} | ${cell(b, 32)} | ${(c.cpu / b.cpu).toFixed(2)}×`,
  );
}
const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)] as number;
const m = median(model);
const d = median(baseline);
console.log(`median | ${figure(m).padStart(33)} | ${figure(d).padStart(32)} | ${(m / d).toFixed(2)}×`);
console.log('');
console.log(
  `${m >= TARGET ? 'PASS' : 'MISS'}  ≥ ${figure(TARGET)} posts per CPU-second with the model: ${figure(m)}`,
);
