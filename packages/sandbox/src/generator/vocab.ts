/**
 * The shape of a language's fragments. Templates use {SLOT} for a value ({B} the brand, {F} a feature,
 * {NM} a near-miss word, {T} a time of day, ... see compose.ts) and {a|b|c} for alternatives ({|x} is
 * "maybe x"). A template starting with "~" is a negated complaint ("not bad"): it is not a complaint.
 */

export type BrandKind = 'praise' | 'complaint' | 'trouble' | 'question' | 'neutral';
/** pos: praise, neg: stuck (trouble), gripe: dissatisfied (complaint), ask: a question, flat: neither. */
export type Tone = 'pos' | 'neg' | 'gripe' | 'ask' | 'flat';

export interface Registered {
  readonly casual: readonly string[];
  readonly polite: readonly string[];
}

export interface Vocabulary {
  /** Brand posts by kind and register. */
  readonly brand: Readonly<Record<BrandKind, Registered>>;
  readonly official: readonly string[];
  readonly noise: readonly string[];
  readonly nearMiss: readonly string[];
  /** Said before the body. */
  readonly openers: Readonly<Record<Tone, Registered>>;
  /** A second sentence that carries the feeling. */
  readonly feelings: Readonly<Record<Tone, Registered>>;
  /** Casual sentence ends (ｗ, 草, lol). */
  readonly endings: Readonly<Record<Tone, readonly string[]>>;
  readonly emoji: Readonly<Record<Tone, readonly string[]>>;
  readonly hashtags: Readonly<Record<Tone, readonly string[]>>;
  /** Word lists for the slots. */
  readonly words: Readonly<Record<string, readonly string[]>>;
  /** Typos: [correct, mistyped] pairs tried before a mechanical slip. */
  readonly typos: readonly (readonly [string, string])[];
}
