/**
 * Leave-one-set-out cross-validation of the intent model: for each labelled set, the model is
 * trained (both stages, as scripts/train-intent-model.ts does) on all the other sets and measured on
 * the one left out, next to the dictionary alone on the same posts. Each set has its own products
 * and most have their own author, so this is the figure that predicts posts nobody here wrote.
 *
 *   node corpus/cross-validate.ts [--gates 0,0.4,0.5] [--bits N] [--max-n N] [--ngram-lambda X] [--meta-lambda X]
 *     [--words true|false] [--without set,set] [--folds set,set]
 *
 * `npm run eval:cv` runs it. --gates also prints what the figures would be if the dictionary's verdict
 * stood whenever the model's probability for its own is below a gate (the shipped classifier has no
 * gate: the model always decides; this shows whether one would help). --folds leaves out (and
 * measures) only the sets named, each still trained on in the other folds: `--folds
 * heldout-test,heldout-2,heldout-3,heldout-4,heldout-5,heldout-6,heldout-7,heldout-8` gives the
 * never-tuned pool in half the time.
 *
 * The dictionary was tuned on intent-corpus, heldout-dev, dev-2, dev-3 and dev-4 (its figures there
 * are optimistic, and so are the model's, which reads the dictionary): the sets never tuned on,
 * heldout-test and heldout-2 to -8, are reported apart (and round 8's pool, without heldout-8, and
 * round 7's, without heldout-6 to -8, on their own lines). train-6 to -12 were written only to train
 * the model on: they are left out in turn too, but not pooled with the sets never tuned on.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileModel } from '../src/classify/model.ts';
import { type Intent, intentSchema } from '../src/config.ts';
import { classMetrics } from './evaluate.ts';
import {
  labelledPosts,
  type PreparedPost,
  preparePosts,
  SETTINGS,
  type TrainingSettings,
  trainIntentModel,
} from './intent-training.ts';

/** Sets the dictionaries were tuned on (their errors were read): optimistic for the dictionary. */
export const TUNED_SETS: ReadonlySet<string> = new Set([
  'intent-corpus',
  'heldout-dev',
  'dev-2',
  'dev-3',
  'dev-4',
]);

/**
 * Sets written only to train the model on, by the person who then chose its features: left out in
 * turn like the others, but not counted with the sets never tuned on.
 */
export const TRAINING_SETS: ReadonlySet<string> = new Set([
  'train-6',
  'train-7',
  'train-8',
  'train-9',
  'train-10',
  'train-11',
  'train-12',
]);

/** Round 7's blind sets, trained on from round 8: the pool before them is reported apart too. */
const ROUND_8_FOLDS: ReadonlySet<string> = new Set(['heldout-6', 'heldout-7']);

/** Round 8's blind set, trained on from round 9: round 8's pool (without it) is reported apart too. */
const ROUND_9_FOLDS: ReadonlySet<string> = new Set(['heldout-8']);

/** A set whose figures predict posts nobody here has seen. */
export function isUntuned(set: string): boolean {
  return !TUNED_SETS.has(set) && !TRAINING_SETS.has(set);
}

const INTENTS: readonly Intent[] = intentSchema.options;

/** One post's outcome in the fold that left its set out. */
export interface FoldOutcome {
  readonly set: string;
  readonly lang: 'ja' | 'en';
  readonly label: Intent;
  readonly dictionary: Intent;
  readonly model: Intent;
  readonly probability: number;
}

/** Runs every fold; `onFold` hears each set as it is done. */
export function crossValidate(
  posts: readonly PreparedPost[],
  settings: TrainingSettings = SETTINGS,
  onFold: (set: string) => void = () => {},
  folds?: ReadonlySet<string>,
): FoldOutcome[] {
  const sets = [...new Set(posts.map((p) => p.post.set))].filter((set) => folds?.has(set) ?? true);
  const outcomes: FoldOutcome[] = [];
  for (const set of sets) {
    const model = compileModel(
      trainIntentModel(
        posts.filter((p) => p.post.set !== set),
        settings,
      ),
    );
    for (const p of posts) {
      if (p.post.set !== set) continue;
      const verdict = model.predict(p.text, p.reading);
      outcomes.push({
        set,
        lang: p.post.lang,
        label: p.post.intent,
        dictionary: p.reading.intent,
        model: verdict.intent,
        probability: verdict.probability,
      });
    }
    onFold(set);
  }
  return outcomes;
}

/** What a gate would give: the model's verdict when it is at least this sure, else the dictionary's. */
export function finalIntent(outcome: FoldOutcome, minProbability: number): Intent {
  return outcome.probability >= minProbability ? outcome.model : outcome.dictionary;
}

/** Macro-F1 over the five intents of (label, predicted) pairs. */
export function macroF1(pairs: ReadonlyArray<readonly [Intent, Intent]>): number {
  const confusion = {} as Record<Intent, Record<Intent, number>>;
  for (const label of INTENTS)
    confusion[label] = { praise: 0, complaint: 0, trouble: 0, question: 0, neutral: 0 };
  for (const [label, predicted] of pairs) confusion[label][predicted]++;
  return classMetrics(INTENTS, confusion).macroF1;
}

function f1Of(outcomes: readonly FoldOutcome[], pick: (o: FoldOutcome) => Intent): number {
  return macroF1(outcomes.map((o) => [o.label, pick(o)] as const));
}

/** The report: per set and language, dictionary → model; then pooled. */
export function formatCrossValidation(
  outcomes: readonly FoldOutcome[],
  gates: readonly number[] = [],
): string {
  const dictionary = (o: FoldOutcome) => o.dictionary;
  const shipped = (o: FoldOutcome) => o.model;
  const cell = (group: readonly FoldOutcome[]) =>
    group.length === 0
      ? '      —      '
      : `${f1Of(group, dictionary).toFixed(3)} → ${f1Of(group, shipped).toFixed(3)}`.padEnd(13);
  const row = (name: string, group: readonly FoldOutcome[]) =>
    `${name.padEnd(22)}${String(group.length).padStart(5)}  ${cell(group)}  ${cell(group.filter((o) => o.lang === 'ja'))}  ${cell(group.filter((o) => o.lang === 'en'))}`;
  const sets = [...new Set(outcomes.map((o) => o.set))];
  const untuned = outcomes.filter((o) => isUntuned(o.set));
  const out = [
    'macro-F1, dictionary alone → dictionary + model, each set left out in turn (the model trained on the others)',
    '',
    `${'set left out'.padEnd(22)}${'posts'.padStart(5)}  ${'all'.padEnd(13)}  ${'ja'.padEnd(13)}  ${'en'.padEnd(13)}`,
    ...sets.map((set) =>
      row(
        `${set}${TUNED_SETS.has(set) ? ' (tuned)' : TRAINING_SETS.has(set) ? ' (training)' : ''}`,
        outcomes.filter((o) => o.set === set),
      ),
    ),
    '',
    row('never tuned on, pooled', untuned),
    row(
      '… of them round 8 pool',
      untuned.filter((o) => !ROUND_9_FOLDS.has(o.set)),
    ),
    row(
      '… of them round 7 pool',
      untuned.filter((o) => !ROUND_8_FOLDS.has(o.set) && !ROUND_9_FOLDS.has(o.set)),
    ),
    row('all sets, pooled', outcomes),
  ];
  const mean = (pick: (o: FoldOutcome) => Intent, names: readonly string[]) =>
    names.reduce(
      (sum, set) =>
        sum +
        f1Of(
          outcomes.filter((o) => o.set === set),
          pick,
        ),
      0,
    ) / names.length;
  const untunedNames = sets.filter(isUntuned);
  out.push(
    `mean of the never-tuned sets' macro-F1: ${mean(dictionary, untunedNames).toFixed(3)} → ${mean(shipped, untunedNames).toFixed(3)}`,
  );
  out.push('', 'per intent, never tuned on, pooled (F1, dictionary → model):');
  for (const intent of INTENTS) {
    const f1 = (pick: (o: FoldOutcome) => Intent) => {
      const tp = untuned.filter((o) => o.label === intent && pick(o) === intent).length;
      const predicted = untuned.filter((o) => pick(o) === intent).length;
      const actual = untuned.filter((o) => o.label === intent).length;
      return predicted + actual === 0 ? 0 : (2 * tp) / (predicted + actual);
    };
    out.push(`  ${intent.padEnd(10)} ${f1(dictionary).toFixed(3)} → ${f1(shipped).toFixed(3)}`);
  }
  for (const other of gates) {
    const pick = (o: FoldOutcome) => finalIntent(o, other);
    out.push(
      `with a gate at ${other.toFixed(2)}: never tuned on ${f1Of(untuned, pick).toFixed(3)} (ja ${f1Of(
        untuned.filter((o) => o.lang === 'ja'),
        pick,
      ).toFixed(3)}, en ${f1Of(
        untuned.filter((o) => o.lang === 'en'),
        pick,
      ).toFixed(3)}), all ${f1Of(outcomes, pick).toFixed(3)}`,
    );
  }
  return out.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      gates: { type: 'string', default: '' },
      bits: { type: 'string', default: String(SETTINGS.bits) },
      'max-n': { type: 'string', default: String(SETTINGS.maxN) },
      'ngram-lambda': { type: 'string', default: String(SETTINGS.ngramLambda) },
      'meta-lambda': { type: 'string', default: String(SETTINGS.metaLambda) },
      words: { type: 'string', default: String(SETTINGS.words === true) },
      without: { type: 'string', default: '' },
      'language-buckets': { type: 'string', default: String(SETTINGS.languageBuckets === true) },
      folds: { type: 'string', default: '' },
    },
  });
  const gates = values.gates === '' ? [] : values.gates.split(',').map(Number);
  // Other settings than the shipped ones are for trying them out; the shipped model uses SETTINGS.
  const settings: TrainingSettings = {
    bits: Number(values.bits),
    maxN: Number(values['max-n']),
    ngramLambda: Number(values['ngram-lambda']),
    metaLambda: Number(values['meta-lambda']),
    ...(values.words === 'true' ? { words: true } : {}),
    ...(values['language-buckets'] === 'true' ? { languageBuckets: true } : {}),
  };
  const numbers = [settings.bits, settings.maxN, settings.ngramLambda, settings.metaLambda];
  if (
    gates.some((g) => !Number.isFinite(g)) ||
    numbers.some((v) => !(v > 0)) ||
    !['true', 'false'].includes(values.words)
  ) {
    console.error(
      'usage: node corpus/cross-validate.ts [--gates 0,0.4,0.5] [--bits N] [--max-n N] [--ngram-lambda X] [--meta-lambda X] [--words true|false] [--without set,set] [--folds set,set]',
    );
    process.exit(2);
  }
  const started = performance.now();
  // --without: the sets to leave out altogether (not trained on in any fold, not measured).
  const without = new Set(values.without.split(','));
  const posts = labelledPosts().filter((p) => !without.has(p.set));
  // --folds: leave out (and measure) only these sets; every set is still trained on in the others' folds.
  const folds = values.folds === '' ? undefined : new Set(values.folds.split(','));
  const outcomes = crossValidate(
    preparePosts(posts, settings),
    settings,
    (set) => process.stderr.write(`${set} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`),
    folds,
  );
  console.log(
    `settings: ${JSON.stringify(settings)}${JSON.stringify(settings) === JSON.stringify(SETTINGS) ? ' (shipped)' : ''}`,
  );
  console.log(formatCrossValidation(outcomes, gates));
}
