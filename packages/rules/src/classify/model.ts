/**
 * The learned layer of the intent classifier (issue 13): a linear model over the post's character
 * n-grams, stacked with the dictionary's own reading of the post.
 *
 * Two stages, both multinomial logistic regression, trained by scripts/train-intent-model.ts on every
 * labelled set in corpus/ and stored in intent-model.json:
 *
 *   1. Character n-grams (1 to `maxN` characters of the normalised text, digits folded to 0) and,
 *      with `words`, Latin words and pairs of consecutive words, hashed into 2^bits buckets, each
 *      bucket counted once per post (present or not); one weight per bucket and intent, stored as
 *      int8 with one scale. Japanese needs no tokeniser for this; English words show up as n-grams
 *      with their spaces and as whole words ("not working", "still charged"). With
 *      `languageBuckets`, an English post's buckets are XORed with a constant: what both languages
 *      share (punctuation, digits, emoji, Latin names) is weighed apart in each.
 *   2. A small model that weighs stage 1's log-probabilities against the dictionary's scores, its
 *      verdict and its notice markers (META_FEATURES). It was trained on stage-1 outputs for posts
 *      stage 1 had not seen (out of fold, one labelled set left out at a time), so it learns how far
 *      each side can be trusted on new posts.
 *
 * A team's configured words are the team telling the classifier what it means: each unit of their
 * evidence adds TEAM_WORD_LOGIT to its intent's final score on top of counting in the dictionary scores.
 *
 * Everything here is integer and float arithmetic in a fixed order: the same text gives the same
 * answer on every run and machine.
 */
import type { Intent } from '../config.ts';
import type { SignalIntent } from './dictionaries.ts';

/** The intents the model scores, in the order of its weights. */
export const MODEL_INTENTS: readonly Intent[] = ['praise', 'complaint', 'trouble', 'question', 'neutral'];
const K = 5;

/** The dictionary scores, in the order of the meta features. */
const SCORE_INTENTS: readonly SignalIntent[] = ['praise', 'complaint', 'trouble', 'question'];

/**
 * Stage 2's inputs, in order: stage 1's log-probability per intent (5), each dictionary score clipped
 * to 4 and halved (4), the dictionary's verdict one-hot (5), the notice markers' weight clipped to 2
 * (1), a bias (1).
 */
export const META_FEATURES = 16;

/** Extra final score per unit of a team's own evidence (a configured word weighs 1.5: +4.5). */
export const TEAM_WORD_LOGIT = 3;

/** The stored model (intent-model.json), as written by the training script. */
export interface IntentModelData {
  readonly format: 'kikimimi-intent-model/1';
  readonly intents: readonly string[];
  /** Hash buckets: 2^bits. */
  readonly bits: number;
  /** Longest character n-gram. */
  readonly maxN: number;
  /** Latin words and pairs of consecutive words are hashed into the same buckets too (absent: no). */
  readonly words?: boolean;
  /**
   * An English post's buckets are moved (each XORed with a constant), so the n-grams both languages
   * share (punctuation, digits, emoji, Latin names) weigh apart in each (absent: no). English: more
   * Latin letters than twice the Japanese characters (isEnglishText).
   */
  readonly languageBuckets?: boolean;
  /** Stage 1: int8 weights, bucket-major (bucket × 5 + intent), base64; the real weight is q × scale. */
  readonly scale: number;
  readonly weights: string;
  /** Stage 2: 5 × META_FEATURES weights, intent-major. */
  readonly meta: readonly number[];
  /** What it was trained on, for people. */
  readonly trainedOn: { readonly sets: readonly string[]; readonly posts: number };
}

/** The dictionary's reading of a post, as the model uses it. */
export interface DictionaryReading {
  readonly scores: Readonly<Record<SignalIntent, number>>;
  readonly intent: Intent;
  /** The notice markers' extra evidence (each distinct marker's weight). */
  readonly noticeWeight: number;
}

/** What the model says about a post. */
export interface ModelVerdict {
  readonly intent: Intent;
  /** The model's probability for that intent, 0–1. */
  readonly probability: number;
}

/** A compiled model. */
export interface IntentModel {
  /**
   * Final verdict for normalised text. `team` holds the team's own evidence per intent (configured
   * words, after negation), or undefined when there is none.
   */
  predict(
    text: string,
    reading: DictionaryReading,
    team?: Readonly<Record<SignalIntent, number>>,
  ): ModelVerdict;
  /**
   * predict for a text its caller has already read into code units: `codes[0 … length)` (the
   * classifier reads each post into a typed array once for all its scans; see createClassifier).
   */
  predictCodes(
    codes: Uint16Array,
    length: number,
    reading: DictionaryReading,
    team?: Readonly<Record<SignalIntent, number>>,
  ): ModelVerdict;
  /** Stage 1 alone: the n-gram logits (for training and tests). */
  ngramLogits(text: string): Float64Array;
  readonly data: IntentModelData;
}

/** Two intents' weights share one int32: the lower one plus LANE times the higher one (compileModel). */
const LANE = 2 ** 16;
/** The most n-grams summed in one number before the two intents are split apart (|lower sum| ≤ 2^14). */
const LANE_ROOM = 2 ** 7;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;
const SPACE = 0x20;

/**
 * Calls `visit` with the bucket of every character n-gram (1 to maxN characters) of ` text ` (a space
 * on each side marks the start and the end; digits are folded to 0), in text order, repeats included;
 * with `words`, then the bucket of every Latin word and pair of words (forEachWord). The model's
 * features are the distinct buckets (present or not: counting repeats measured worse). With
 * `languageBuckets` and an English text (isEnglishText), every bucket is XORed with ENGLISH_XOR. Training
 * uses this; prediction inlines the same loops (a test holds the two together).
 */
export function forEachBucket(
  text: string,
  bits: number,
  maxN: number,
  visit: (bucket: number) => void,
  words = false,
  languageBuckets = false,
): void {
  const mask = (1 << bits) - 1;
  if (languageBuckets && isEnglishText(text)) {
    const moved = ENGLISH_XOR & mask;
    forEachBucket(text, bits, maxN, (bucket) => visit(bucket ^ moved), words);
    return;
  }
  const length = text.length + 2;
  for (let i = 0; i < length; i++) {
    let h = FNV_OFFSET;
    const last = Math.min(length, i + maxN);
    for (let j = i; j < last; j++) {
      let c = j === 0 || j === length - 1 ? SPACE : text.charCodeAt(j - 1);
      if (c >= 0x30 && c <= 0x39) c = 0x30; // 5回も, 30 minutes: the digits do not matter
      h = Math.imul(h ^ c, FNV_PRIME);
      visit((h ^ (h >>> 15)) & mask);
    }
  }
  if (words) forEachWord(text, (hash) => visit(hash & mask));
}

/** What an English post's buckets are XORed with (languageBuckets). */
const ENGLISH_XOR = 0x5a5a5a;

/** Whether a normalised text counts as English: more Latin letters than twice its Japanese characters. */
export function isEnglishText(text: string): boolean {
  let latin = 0;
  let japanese = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) latin++;
    else if (c >= 0x3040 && c < 0xa000) japanese++;
  }
  return latin > 2 * japanese;
}

/** A Latin word's character: a–z, a digit (folded to 0 by the caller) or an apostrophe. */
function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || c === 0x30 || c === 0x27;
}

const WORD_SEED = 0x5bd1e995;
const PAIR_SEED = 0x27d4eb2f;
const APOSTROPHE = 0x27;

/**
 * Calls `visit` with the hash (before masking) of every Latin word (a–z, digits folded to 0,
 * apostrophes) of `text` and of every pair of consecutive words, in text order.
 */
export function forEachWord(text: string, visit: (hash: number) => void): void {
  let previous = 0;
  let h = 0;
  let inWord = false;
  const length = text.length;
  for (let i = 0; i <= length; i++) {
    let c = i < length ? text.charCodeAt(i) : 0x20;
    if (c >= 0x30 && c <= 0x39) c = 0x30;
    if (isWordChar(c)) {
      if (!inWord) {
        h = FNV_OFFSET ^ WORD_SEED;
        inWord = true;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (!inWord) {
      // Punctuation (not a space) ends the phrase: no pair across it.
      if (c !== 0x20) previous = 0;
      continue;
    }
    inWord = false;
    const word = h ^ (h >>> 15);
    visit(word);
    if (previous !== 0) {
      const pair = Math.imul(previous ^ PAIR_SEED, FNV_PRIME) ^ word;
      visit(pair ^ (pair >>> 13));
    }
    previous = c === 0x20 ? word | 1 : 0;
  }
}

/** The meta features for one post (stage 1's logits and the dictionary's reading), into `out`. */
export function metaFeatures(
  ngram: Float64Array,
  reading: DictionaryReading,
  out: Float64Array,
): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, ngram[k] as number);
  let sum = 0;
  for (let k = 0; k < K; k++) sum += Math.exp((ngram[k] as number) - max);
  const logSum = max + Math.log(sum);
  for (let k = 0; k < K; k++) out[k] = (ngram[k] as number) - logSum;
  for (let k = 0; k < 4; k++) out[K + k] = Math.min(reading.scores[SCORE_INTENTS[k] as SignalIntent], 4) / 2;
  for (let k = 0; k < K; k++) out[K + 4 + k] = reading.intent === MODEL_INTENTS[k] ? 1 : 0;
  out[K + 4 + K] = Math.min(reading.noticeWeight, 2);
  out[META_FEATURES - 1] = 1;
  return out;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 to signed bytes (this package stays free of Node's Buffer). */
export function decodeBase64(text: string): Int8Array {
  const values = new Uint8Array(128).fill(255);
  for (let i = 0; i < BASE64.length; i++) values[BASE64.charCodeAt(i)] = i;
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--; // '='
  const out = new Int8Array(Math.floor((end * 6) / 8));
  let buffer = 0;
  let held = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (values[code] as number) : 255;
    if (value === 255) throw new Error(`intent model: not base64 at ${i}`);
    buffer = ((buffer << 6) | value) & 0xffffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[at++] = (buffer >> held) & 0xff;
    }
  }
  return out;
}

/** Checks a stored model and prepares it for prediction. */
export function compileModel(data: IntentModelData): IntentModel {
  if (data.format !== 'kikimimi-intent-model/1')
    throw new Error(`intent model: unknown format ${data.format}`);
  if (data.intents.join() !== MODEL_INTENTS.join())
    throw new Error('intent model: intents differ from this code');
  if (!Number.isInteger(data.bits) || data.bits < 8 || data.bits > 24)
    throw new Error('intent model: bad bits');
  const weights = decodeBase64(data.weights);
  if (weights.length !== (1 << data.bits) * K) throw new Error('intent model: weights do not match bits');
  if (data.meta.length !== K * META_FEATURES)
    throw new Error('intent model: meta weights have the wrong size');
  const meta = Float64Array.from(data.meta);
  const { bits, maxN, scale } = data;
  const words = data.words === true;
  const languageBuckets = data.languageBuckets === true;

  const mask = (1 << bits) - 1;
  // The n-gram loop's weights, two intents to a number: per bucket w0 + w1 × LANE, w2 + w3 × LANE,
  // w4 (three reads and additions per n-gram instead of five). Sums of at most LANE_ROOM such
  // numbers are exact integers (|sum| < 2^31), and the two intents come apart again exactly because
  // the lower one's sum stays within ±LANE / 2 (128 n-grams of at most 128 each: 2^14 < 2^15).
  const pairs = new Int32Array((1 << bits) * 3);
  for (let bucket = 0; bucket < 1 << bits; bucket++) {
    const w = bucket * K;
    pairs[bucket * 3] = (weights[w] as number) + (weights[w + 1] as number) * LANE;
    pairs[bucket * 3 + 1] = (weights[w + 2] as number) + (weights[w + 3] as number) * LANE;
    pairs[bucket * 3 + 2] = weights[w + 4] as number;
  }
  // seen[bucket] === mark: already counted in this post (each bucket once per post). The marks start
  // afresh every 255 posts.
  const seen = new Uint8Array(1 << bits);
  let mark = 0;
  const ngram = new Float64Array(K);
  const features = new Float64Array(META_FEATURES);
  const final = new Float64Array(K);

  /** forEachBucket with the weights summed in place: the hot path, no call per n-gram. */
  let codes = new Uint16Array(256);
  /** The post's n-gram buckets, in text order (repeats included). */
  let buckets = new Int32Array(1024);

  /** A text's code units, for predict and ngramLogits (the classifier passes its own: predictCodes). */
  let input = new Uint16Array(256);

  function readText(text: string): Uint16Array {
    if (input.length < text.length) input = new Uint16Array(text.length * 2);
    for (let i = 0; i < text.length; i++) input[i] = text.charCodeAt(i);
    return input;
  }

  /** Stage 1's logits for the text `source[0 … textLength)`. */
  function ngramInto(source: Uint16Array, textLength: number, out: Float64Array): Float64Array {
    if (++mark === 256) {
      seen.fill(0);
      mark = 1;
    }
    // The text between two spaces, digits folded, once; the n-gram loop then only reads codes.
    const length = textLength + 2;
    if (codes.length < length) codes = new Uint16Array(length * 2);
    codes[0] = SPACE;
    let latin = 0;
    let japanese = 0;
    // Digits and apostrophes: with the Latin letters, whether the post has any word (forEachWord).
    let otherWordChars = 0;
    for (let i = 0; i < textLength; i++) {
      const c = source[i] as number;
      if (c >= 0x30 && c <= 0x39) {
        codes[i + 1] = 0x30;
        otherWordChars++;
        continue;
      }
      codes[i + 1] = c;
      if (c >= 0x61 && c <= 0x7a) latin++;
      else if (c >= 0x3040 && c < 0xa000) japanese++;
      else if (c === APOSTROPHE) otherWordChars++;
    }
    // isEnglishText, counted on the way.
    const moved = languageBuckets && latin > 2 * japanese ? ENGLISH_XOR & mask : 0;
    codes[length - 1] = SPACE;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    // Pass 1 hashes every n-gram into `buckets` (arithmetic only); pass 2 sums the weights of the
    // distinct ones (the memory reads). With 4-grams (the shipped model) the n-grams of a start are
    // hashed without an inner loop. Same buckets as forEachBucket, in the same order.
    let count = 0;
    if (buckets.length < length * maxN) buckets = new Int32Array(length * maxN * 2);
    if (maxN === 4 && length >= 4) {
      const full = length - 3;
      let c1 = codes[0] as number;
      let c2 = codes[1] as number;
      let c3 = codes[2] as number;
      for (let i = 0; i < full; i++) {
        const c4 = codes[i + 3] as number;
        let h = Math.imul(FNV_OFFSET ^ c1, FNV_PRIME);
        buckets[count] = (h ^ (h >>> 15)) & mask;
        h = Math.imul(h ^ c2, FNV_PRIME);
        buckets[count + 1] = (h ^ (h >>> 15)) & mask;
        h = Math.imul(h ^ c3, FNV_PRIME);
        buckets[count + 2] = (h ^ (h >>> 15)) & mask;
        h = Math.imul(h ^ c4, FNV_PRIME);
        buckets[count + 3] = (h ^ (h >>> 15)) & mask;
        count += 4;
        c1 = c2;
        c2 = c3;
        c3 = c4;
      }
      for (let i = full; i < length; i++) {
        let h = FNV_OFFSET;
        for (let j = i; j < length; j++) {
          h = Math.imul(h ^ (codes[j] as number), FNV_PRIME);
          buckets[count++] = (h ^ (h >>> 15)) & mask;
        }
      }
    } else {
      for (let i = 0; i < length; i++) {
        let h = FNV_OFFSET;
        const last = Math.min(length, i + maxN);
        for (let j = i; j < last; j++) {
          h = Math.imul(h ^ (codes[j] as number), FNV_PRIME);
          buckets[count++] = (h ^ (h >>> 15)) & mask;
        }
      }
    }
    // Summed in pairs (see `pairs`), at most LANE_ROOM n-grams before the pairs are split again.
    for (let from = 0; from < count; from += LANE_ROOM) {
      const to = Math.min(count, from + LANE_ROOM);
      let p01 = 0;
      let p23 = 0;
      for (let n = from; n < to; n++) {
        const bucket = (buckets[n] as number) ^ moved;
        // 1 the first time the bucket is met in this post, else 0: a multiplication instead of a
        // branch the CPU cannot predict (repeats are common and irregular).
        const fresh = (seen[bucket] as number) === mark ? 0 : 1;
        seen[bucket] = mark;
        const base = bucket * 3;
        p01 += (pairs[base] as number) * fresh;
        p23 += (pairs[base + 1] as number) * fresh;
        s4 += (pairs[base + 2] as number) * fresh;
      }
      const high01 = Math.round(p01 / LANE);
      s0 += p01 - high01 * LANE;
      s1 += high01;
      const high23 = Math.round(p23 / LANE);
      s2 += p23 - high23 * LANE;
      s3 += high23;
    }
    if (words && latin + otherWordChars > 0) {
      // forEachWord inlined: the post's Latin words and pairs of words.
      let previous = 0;
      let h = 0;
      let inWord = false;
      for (let i = 1; i < length; i++) {
        const c = codes[i] as number;
        if ((c >= 0x61 && c <= 0x7a) || c === 0x30 || c === 0x27) {
          if (!inWord) {
            h = FNV_OFFSET ^ WORD_SEED;
            inWord = true;
          }
          h = Math.imul(h ^ c, FNV_PRIME);
          continue;
        }
        if (!inWord) {
          if (c !== SPACE) previous = 0;
          continue;
        }
        inWord = false;
        const word = h ^ (h >>> 15);
        let bucket = (word & mask) ^ moved;
        if (seen[bucket] !== mark) {
          seen[bucket] = mark;
          const base = bucket * K;
          s0 += weights[base] as number;
          s1 += weights[base + 1] as number;
          s2 += weights[base + 2] as number;
          s3 += weights[base + 3] as number;
          s4 += weights[base + 4] as number;
        }
        if (previous !== 0) {
          const pair = Math.imul(previous ^ PAIR_SEED, FNV_PRIME) ^ word;
          bucket = ((pair ^ (pair >>> 13)) & mask) ^ moved;
          if (seen[bucket] !== mark) {
            seen[bucket] = mark;
            const base = bucket * K;
            s0 += weights[base] as number;
            s1 += weights[base + 1] as number;
            s2 += weights[base + 2] as number;
            s3 += weights[base + 3] as number;
            s4 += weights[base + 4] as number;
          }
        }
        previous = c === SPACE ? word | 1 : 0;
      }
    }
    out[0] = s0 * scale;
    out[1] = s1 * scale;
    out[2] = s2 * scale;
    out[3] = s3 * scale;
    out[4] = s4 * scale;
    return out;
  }

  function predictCodes(
    source: Uint16Array,
    textLength: number,
    reading: DictionaryReading,
    team: Readonly<Record<SignalIntent, number>> | undefined,
  ): ModelVerdict {
    metaFeatures(ngramInto(source, textLength, ngram), reading, features);
    for (let k = 0; k < K; k++) {
      let z = 0;
      const base = k * META_FEATURES;
      for (let f = 0; f < META_FEATURES; f++) z += (meta[base + f] as number) * (features[f] as number);
      final[k] = z;
    }
    if (team !== undefined) {
      for (let k = 0; k < 4; k++) {
        final[k] = (final[k] as number) + TEAM_WORD_LOGIT * team[SCORE_INTENTS[k] as SignalIntent];
      }
    }
    let best = 0;
    for (let k = 1; k < K; k++) if ((final[k] as number) > (final[best] as number)) best = k;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp((final[k] as number) - (final[best] as number));
    return { intent: MODEL_INTENTS[best] as Intent, probability: 1 / sum };
  }

  return {
    data,
    ngramLogits(text) {
      return ngramInto(readText(text), text.length, new Float64Array(K));
    },
    predict(text, reading, team) {
      return predictCodes(readText(text), text.length, reading, team);
    },
    predictCodes,
  };
}
