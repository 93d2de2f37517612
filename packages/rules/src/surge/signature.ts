import { splitUrls } from '../normalize.ts';

/**
 * Near-duplicate text, cheaply: character bigrams of the letters and digits of a normalised text
 * (Japanese has no spaces, so words cannot be the unit), summarised as a MinHash signature whose
 * agreement estimates the Jaccard similarity of two texts' bigram sets.
 */

/** Hash functions per signature: the estimate's standard error is about 0.5/√64 ≈ 0.06. */
export const SIGNATURE_SIZE = 64;
/** LSH: the signature cut into bands of 2 values; texts sharing one band are compared. */
export const BAND_ROWS = 2;
export const BANDS = SIGNATURE_SIZE / BAND_ROWS;
/** Texts with fewer distinct bigrams than this say too little to be called near-duplicates. */
export const MIN_SHINGLES = 3;

/** murmur3's finaliser: a good 32-bit mix. */
function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

// Fixed seeds: a signature means the same in every process and after a restart.
const SEEDS = new Uint32Array(SIGNATURE_SIZE);
for (let i = 0, s = 0x9e3779b9; i < SIGNATURE_SIZE; i++) {
  s = mix32(s + 0x6d2b79f5 + i);
  SEEDS[i] = s;
}

const MENTION = /[@＠][A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+)?/gu;
const NOT_TEXT = /[^\p{L}\p{N}]+/gu;

/**
 * The characters that carry meaning: URLs and @mentions removed (they differ between otherwise
 * identical posts), then everything but letters and digits (spaces, punctuation, emoji).
 */
export function shingleText(normalized: string): string {
  return splitUrls(normalized).prose.replace(MENTION, ' ').replace(NOT_TEXT, '');
}

/** 30 bits: numbers V8 keeps unboxed, so Maps and Sets of them stay fast. */
const smi = (h: number): number => h >>> 2;

/** Hashes of the distinct character bigrams of `text` (already through `shingleText`). */
export function shingles(text: string): Uint32Array {
  const seen = new Set<number>();
  for (let i = 0; i + 1 < text.length; i++) {
    seen.add(smi(mix32((text.charCodeAt(i) << 16) | text.charCodeAt(i + 1))));
  }
  return Uint32Array.from(seen);
}

/** The distinct bigram hashes of a normalised text, ready for `minHash`. */
export function textShingles(normalized: string): Uint32Array {
  return shingles(shingleText(normalized));
}

/** The MinHash signature of a bigram set, or undefined when the set is too small to compare. */
export function minHash(set: ArrayLike<number>): Uint32Array | undefined {
  if (set.length < MIN_SHINGLES) return undefined;
  const signature = new Uint32Array(SIGNATURE_SIZE).fill(0xffffffff);
  for (let j = 0; j < set.length; j++) {
    const shingle = set[j] as number;
    for (let i = 0; i < SIGNATURE_SIZE; i++) {
      // The shingle is already well mixed: one multiply and shift per hash function is enough.
      let h = Math.imul(shingle ^ (SEEDS[i] as number), 0x85ebca6b);
      h = (h ^ (h >>> 16)) >>> 0;
      if (h < (signature[i] as number)) signature[i] = h;
    }
  }
  return signature;
}

/** The MinHash signature of a normalised text's bigrams, or undefined when it is too short to compare. */
export function signatureOf(normalized: string): Uint32Array | undefined {
  return minHash(textShingles(normalized));
}

/** Estimated Jaccard similarity of the texts behind two signatures (0…1). */
export function similarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < SIGNATURE_SIZE; i++) if (a[i] === b[i]) same++;
  return same / SIGNATURE_SIZE;
}

/**
 * How many values of two signatures agree, counting stops once `needed` can no longer be reached
 * (the result is then below `needed`).
 */
export function agreeing(a: ArrayLike<number>, b: ArrayLike<number>, needed: number): number {
  let same = 0;
  for (let i = 0; i < SIGNATURE_SIZE; i++) {
    if (a[i] === b[i]) same++;
    else if (same + SIGNATURE_SIZE - 1 - i < needed) return same;
  }
  return same;
}

/** The LSH bucket of each band of a signature (a 30-bit number per band). */
export function bandKeys(signature: ArrayLike<number>): number[] {
  const keys: number[] = [];
  for (let band = 0; band < BANDS; band++) {
    let h = band;
    for (let r = 0; r < BAND_ROWS; r++) h = mix32(h ^ (signature[band * BAND_ROWS + r] as number));
    keys.push(smi(h));
  }
  return keys;
}
