/**
 * Trains the intent model (src/classify/model.ts) from labelled posts: used by
 * scripts/train-intent-model.ts for the shipped model and by corpus/cross-validate.ts for the
 * leave-one-set-out estimate, so the estimate measures exactly what ships (quantised weights, the
 * runtime's feature hashing and prediction code).
 *
 * 1. Stage 1, character n-grams → intent, is fitted once per labelled set on all the other sets;
 *    its scores for the set left out are "out of fold": what it says about posts it has not seen.
 * 2. Stage 2 learns, from those out-of-fold scores and the dictionary's reading of the same posts,
 *    how much to trust each (the dictionary was tuned on some of these sets and is right on almost
 *    all of them; stage 1 scores on unseen sets tell the truth about new posts).
 * 3. Stage 1 is then fitted on every post and stored with stage 2.
 */
import { basename } from 'node:path';
import { createClassifier, dictionaryReading } from '../src/classify/classify.ts';
import {
  compileModel,
  type DictionaryReading,
  forEachBucket,
  type IntentModelData,
  META_FEATURES,
  MODEL_INTENTS,
  metaFeatures,
} from '../src/classify/model.ts';
import { classifierSchema, type Intent } from '../src/config.ts';
import { normalizeText, splitUrls } from '../src/normalize.ts';
import { ALL_CORPORA, loadCorpus } from './evaluate.ts';
import { type Example, fitLogistic } from './logistic.ts';

/** The training settings of the shipped model (chosen by leave-one-set-out cross-validation). */
export interface TrainingSettings {
  readonly bits: number;
  readonly maxN: number;
  /** L2 penalty of stage 1 (n-grams). */
  readonly ngramLambda: number;
  /** L2 penalty of stage 2 (the combination). */
  readonly metaLambda: number;
  /** Latin words and pairs of words as stage 1 features too (see IntentModelData.words). */
  readonly words?: boolean;
  /** English posts' buckets apart from Japanese posts' (see IntentModelData.languageBuckets). */
  readonly languageBuckets?: boolean;
}

export const SETTINGS: TrainingSettings = {
  bits: 15,
  maxN: 4,
  ngramLambda: 3e-3,
  metaLambda: 1e-3,
  words: true,
  languageBuckets: true,
};

/** A labelled post and the set it comes from. */
export interface LabelledPost {
  readonly set: string;
  readonly lang: 'ja' | 'en';
  readonly text: string;
  readonly intent: Intent;
}

/** Every labelled set's posts (corpus/*.jsonl), each named by its file. */
export function labelledPosts(paths: readonly string[] = ALL_CORPORA): LabelledPost[] {
  return paths.flatMap((path) =>
    loadCorpus(path).map((post) => ({
      set: basename(path, '.jsonl'),
      lang: post.lang,
      text: post.text,
      intent: post.intent,
    })),
  );
}

/** A post ready for training: its n-gram features and the dictionary's reading. */
export interface PreparedPost {
  readonly post: LabelledPost;
  readonly text: string;
  readonly label: number;
  readonly ngrams: Example;
  readonly reading: DictionaryReading;
}

const K = MODEL_INTENTS.length;

/** Normalises each post as the pipeline does, reads it with the dictionary alone, hashes its n-grams. */
export function preparePosts(
  posts: readonly LabelledPost[],
  settings: TrainingSettings = SETTINGS,
): PreparedPost[] {
  const dictionary = createClassifier(classifierSchema.parse(undefined), {}, { model: null });
  return posts.map((post) => {
    const text = normalizeText(splitUrls(post.text).prose);
    const present = new Set<number>();
    forEachBucket(
      text,
      settings.bits,
      settings.maxN,
      (bucket) => present.add(bucket),
      settings.words === true,
      settings.languageBuckets === true,
    );
    const buckets = [...present].sort((a, b) => a - b);
    return {
      post,
      text,
      label: MODEL_INTENTS.indexOf(post.intent),
      ngrams: {
        indices: Int32Array.from(buckets),
        values: new Float64Array(buckets.length).fill(1),
        label: 0,
      },
      reading: dictionaryReading(dictionary.classify(text)),
    };
  });
}

/** Stage 1 weights as stored: int8 and one scale. */
interface QuantisedNgrams {
  readonly scale: number;
  readonly weights: Int8Array;
}

function fitNgrams(posts: readonly PreparedPost[], settings: TrainingSettings): QuantisedNgrams {
  const examples = posts.map((p) => ({ ...p.ngrams, label: p.label }));
  const weights = fitLogistic(examples, {
    features: 1 << settings.bits,
    classes: K,
    lambda: settings.ngramLambda,
  });
  let max = 0;
  for (const w of weights) max = Math.max(max, Math.abs(w));
  const scale = max === 0 ? 1 : max / 127;
  const quantised = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) quantised[i] = Math.round((weights[i] as number) / scale);
  return { scale, weights: quantised };
}

/** Stage 1 scores from the quantised weights, as the runtime computes them. */
function ngramScores(model: QuantisedNgrams, post: PreparedPost): Float64Array {
  const sums = new Float64Array(K);
  const { indices, values } = post.ngrams;
  for (let j = 0; j < indices.length; j++) {
    const base = (indices[j] as number) * K;
    const count = values[j] as number;
    for (let k = 0; k < K; k++) sums[k] = (sums[k] as number) + (model.weights[base + k] as number) * count;
  }
  for (let k = 0; k < K; k++) sums[k] = (sums[k] as number) * model.scale;
  return sums;
}

function metaExample(scores: Float64Array, post: PreparedPost): Example {
  const values = metaFeatures(scores, post.reading, new Float64Array(META_FEATURES));
  return { indices: Int32Array.from({ length: META_FEATURES }, (_, i) => i), values, label: post.label };
}

/** Trains a complete model (both stages) on the posts; the sets are the posts' `set` names. */
export function trainIntentModel(
  posts: readonly PreparedPost[],
  settings: TrainingSettings = SETTINGS,
): IntentModelData {
  const sets = [...new Set(posts.map((p) => p.post.set))];
  if (sets.length < 2)
    throw new Error('training needs at least two labelled sets (stage 2 learns out of fold)');
  const metaExamples: Example[] = [];
  for (const set of sets) {
    const stage1 = fitNgrams(
      posts.filter((p) => p.post.set !== set),
      settings,
    );
    for (const post of posts) {
      if (post.post.set === set) metaExamples.push(metaExample(ngramScores(stage1, post), post));
    }
  }
  const metaByFeature = fitLogistic(metaExamples, {
    features: META_FEATURES,
    classes: K,
    lambda: settings.metaLambda,
    maxIterations: 1000,
  });
  // Stored intent-major (intent × META_FEATURES + feature), rounded so the file reads the same on every run.
  const meta: number[] = [];
  for (let k = 0; k < K; k++) {
    for (let f = 0; f < META_FEATURES; f++)
      meta.push(Number((metaByFeature[f * K + k] as number).toFixed(6)));
  }
  const stage1 = fitNgrams(posts, settings);
  return {
    format: 'kikimimi-intent-model/1',
    intents: [...MODEL_INTENTS],
    bits: settings.bits,
    maxN: settings.maxN,
    ...(settings.words === true ? { words: true } : {}),
    ...(settings.languageBuckets === true ? { languageBuckets: true } : {}),
    scale: stage1.scale,
    weights: Buffer.from(
      stage1.weights.buffer,
      stage1.weights.byteOffset,
      stage1.weights.byteLength,
    ).toString('base64'),
    meta,
    trainedOn: { sets, posts: posts.length },
  };
}

/** Predicts the posts with a trained model through the runtime's code (compileModel). */
export function predictWith(data: IntentModelData, posts: readonly PreparedPost[]): Intent[] {
  const model = compileModel(data);
  return posts.map((p) => model.predict(p.text, p.reading).intent);
}
