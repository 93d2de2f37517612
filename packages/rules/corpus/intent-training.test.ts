import { describe, expect, it } from 'vitest';
import { compileModel, isEnglishText } from '../src/classify/model.ts';
import { normalizeText, splitUrls } from '../src/normalize.ts';
import { crossValidate, finalIntent, macroF1 } from './cross-validate.ts';
import { labelledPosts, preparePosts, type TrainingSettings, trainIntentModel } from './intent-training.ts';

// Small and fast: three sets, 30 posts each, 2^12 buckets.
const SMALL: TrainingSettings = { bits: 12, maxN: 3, ngramLambda: 1e-3, metaLambda: 1e-2 };
const posts = labelledPosts()
  .filter((p) => ['dev-2', 'dev-3', 'heldout-4'].includes(p.set))
  .filter((_, i) => i % 3 === 0)
  .slice(0, 90);
const prepared = preparePosts(posts, SMALL);

describe('trainIntentModel', () => {
  it('is deterministic: the same posts give the same stored model', () => {
    const a = JSON.stringify(trainIntentModel(prepared, SMALL));
    const b = JSON.stringify(trainIntentModel(prepared, SMALL));
    expect(a).toBe(b);
  });

  it('stores what the runtime reads: the model compiles and fits its training posts', () => {
    const data = trainIntentModel(prepared, SMALL);
    expect(data.bits).toBe(12);
    expect(data.trainedOn).toEqual({ sets: ['dev-2', 'dev-3', 'heldout-4'], posts: prepared.length });
    const model = compileModel(data);
    const right = prepared.filter((p) => model.predict(p.text, p.reading).intent === p.post.intent).length;
    expect(right / prepared.length).toBeGreaterThan(0.9);
  });

  it('needs at least two sets (stage 2 learns from posts stage 1 has not seen)', () => {
    expect(() =>
      trainIntentModel(
        prepared.filter((p) => p.post.set === 'dev-2'),
        SMALL,
      ),
    ).toThrow(/two labelled sets/u);
  });
});

describe('crossValidate', () => {
  it('measures each set with a model that never saw it', () => {
    const outcomes = crossValidate(prepared, SMALL);
    expect(outcomes).toHaveLength(prepared.length);
    expect(new Set(outcomes.map((o) => o.set))).toEqual(new Set(['dev-2', 'dev-3', 'heldout-4']));
    // The model trained without dev-3 is the one that answers for dev-3's posts.
    const withoutDev3 = compileModel(
      trainIntentModel(
        prepared.filter((p) => p.post.set !== 'dev-3'),
        SMALL,
      ),
    );
    const dev3 = prepared.filter((p) => p.post.set === 'dev-3');
    expect(outcomes.filter((o) => o.set === 'dev-3').map((o) => o.model)).toEqual(
      dev3.map((p) => withoutDev3.predict(p.text, p.reading).intent),
    );
  });

  it('a gate of 1 gives the dictionary, a gate of 0 the model', () => {
    const outcome = {
      set: 's',
      lang: 'ja',
      label: 'praise',
      dictionary: 'neutral',
      model: 'praise',
      probability: 0.6,
    } as const;
    expect(finalIntent(outcome, 0)).toBe('praise');
    expect(finalIntent(outcome, 1)).toBe('neutral');
  });

  it('macroF1 averages the F1 of the intents that occur', () => {
    expect(
      macroF1([
        ['praise', 'praise'],
        ['trouble', 'trouble'],
      ]),
    ).toBe(1);
    expect(
      macroF1([
        ['praise', 'praise'],
        ['trouble', 'praise'],
      ]),
    ).toBeCloseTo((2 / 3 + 0) / 2, 10);
  });
});

describe('isEnglishText (languageBuckets)', () => {
  it("agrees with every labelled post's language", () => {
    const wrong = labelledPosts().filter(
      (p) => isEnglishText(normalizeText(splitUrls(p.text).prose)) !== (p.lang === 'en'),
    );
    expect(wrong).toEqual([]);
  });
});
