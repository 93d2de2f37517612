import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../corpus/evaluate.ts';
import { type ClassifierConfig, classifierSchema, type Intent } from '../config.ts';
import { normalizeText, splitUrls } from '../normalize.ts';
import { builtInIntentModel, createClassifier, type IntentResult } from './classify.ts';
import {
  compileModel,
  decodeBase64,
  forEachBucket,
  type IntentModelData,
  META_FEATURES,
  MODEL_INTENTS,
  TEAM_WORD_LOGIT,
} from './model.ts';

const defaults = classifierSchema.parse(undefined);
const shipped = createClassifier(defaults);
const dictionary = createClassifier(defaults, {}, { model: null });
const prose = (text: string) => normalizeText(splitUrls(text).prose);
const run = (text: string, classifier = shipped): IntentResult => classifier.classify(prose(text));
const configured = (overrides: Partial<ClassifierConfig>) =>
  createClassifier(classifierSchema.parse(overrides));

const heldout3 = loadCorpus(new URL('../../corpus/heldout-3.jsonl', import.meta.url).pathname);

/** A model with no n-gram weights whose stage 2 follows the dictionary's verdict (weight 2 each). */
function followsDictionary(): IntentModelData {
  const meta = new Array<number>(5 * META_FEATURES).fill(0);
  for (let k = 0; k < 5; k++) meta[k * META_FEATURES + 9 + k] = 2;
  return {
    format: 'kikimimi-intent-model/1',
    intents: [...MODEL_INTENTS],
    bits: 8,
    maxN: 2,
    scale: 1,
    weights: Buffer.alloc(256 * 5).toString('base64'),
    meta,
    trainedOn: { sets: [], posts: 0 },
  };
}

describe('the classifier uses its learned model', () => {
  it('reports the model verdict, which is the intent', () => {
    const result = run('このアプリ、毎日使ってる');
    expect(result.model).toBeDefined();
    expect(result.intent).toBe(result.model?.intent);
    expect(result.model?.probability).toBeGreaterThan(0.2);
    expect(result.model?.probability).toBeLessThanOrEqual(1);
    expect(result.model?.dictionary).toBe(run('このアプリ、毎日使ってる', dictionary).intent);
  });

  it('decides differently from the dictionary alone on posts the words miss', () => {
    const differ = heldout3.filter((post) => run(post.text).intent !== run(post.text, dictionary).intent);
    expect(differ.length).toBeGreaterThanOrEqual(10);
  });

  it('decides what a given model says (the model is called, not just reported)', () => {
    const model = compileModel(followsDictionary());
    const asks = compileModel({
      ...followsDictionary(),
      meta: followsDictionary().meta.map((w, i) => (i === 3 * META_FEATURES + META_FEATURES - 1 ? 50 : w)),
    });
    const text = prose('最高のアプリ、ありがとう');
    expect(createClassifier(defaults, {}, { model }).classify(text).intent).toBe('praise');
    const result = createClassifier(defaults, {}, { model: asks }).classify(text);
    expect(result.intent).toBe('question');
    expect(result.category).toBe('guidance');
    expect(result.model).toMatchObject({ intent: 'question', dictionary: 'praise' });
    // The signals stay the dictionary's words.
    expect(result.signals.map((s) => s.word)).toEqual(['最高', 'ありがとう']);
  });

  it('is off when the team replaces the built-in words (it was trained with them)', () => {
    const result = run('正直いまいち', configured({ useBuiltIn: false, complaint: ['イマイチ'] }));
    expect(result.intent).toBe('complaint');
    expect(result.model).toBeUndefined();
  });
});

describe('team words steer the model', () => {
  const cases: Array<[Intent, string]> = [
    ['praise', 'アプリがぷにぷに'],
    ['complaint', 'アプリがぷにぷに'],
    ['trouble', 'the app went zorp'],
    ['question', 'the app went zorp'],
  ];
  it.each(cases)('a %s word the team configured decides "%s"', (intent, text) => {
    const word = text.includes('zorp') ? 'zorp' : 'ぷにぷに';
    const before = run(text);
    const after = run(text, configured({ [intent]: [word] }));
    expect(after.intent).toBe(intent);
    expect(after.model?.intent).toBe(intent);
    expect(after.signals.map((s) => s.word)).toContain(word);
    expect(before.signals.map((s) => s.word)).not.toContain(word);
  });

  it('adds TEAM_WORD_LOGIT per unit of the team evidence to the model score', () => {
    // A model that follows the dictionary by 2 per verdict: a team's praise word (weight 1.5) in a
    // post the dictionary calls a complaint adds 1.5 × TEAM_WORD_LOGIT to praise and wins.
    const model = compileModel(followsDictionary());
    const team = createClassifier(classifierSchema.parse({ praise: ['ぷにぷに'] }), {}, { model });
    const plain = createClassifier(defaults, {}, { model });
    const text = prose('ぷにぷにだけど高すぎ');
    expect(plain.classify(text).intent).toBe('complaint');
    const result = team.classify(text);
    expect(result.model?.dictionary).toBe('complaint');
    expect(result.intent).toBe('praise');
    // Without the direct term the dictionary's verdict (2 for complaint) would win over no praise at all.
    expect(TEAM_WORD_LOGIT * 1.5 * 0.6).toBeGreaterThan(2); // the word stands before けど: 0.6 of its weight
  });

  it("counts a word the team's negator turned around as the team's evidence", () => {
    const model = compileModel(followsDictionary());
    const text = prose('不便ちゃう');
    const plain = createClassifier(defaults, {}, { model }).classify(text);
    const team = createClassifier(classifierSchema.parse({ negators: ['ちゃう'] }), {}, { model }).classify(
      text,
    );
    expect(plain.intent).toBe('complaint');
    expect(team.intent).toBe('praise');
    expect(run('不便ちゃう', configured({ negators: ['ちゃう'] })).intent).toBe('praise');
    expect(run('nah terrible', configured({ negators: ['nah'] })).intent).toBe('praise');
  });
});

describe('determinism', () => {
  it('gives the same result for the same text, in the same and in another classifier', () => {
    const other = createClassifier(defaults);
    for (const post of heldout3) {
      const first = run(post.text);
      expect(run(post.text)).toEqual(first);
      expect(run(post.text, other)).toEqual(first);
    }
  });

  it('compiles the stored model to the same weights every time', () => {
    const data = builtInIntentModel().data;
    const a = compileModel(data).ngramLogits('ログインできない');
    const b = compileModel(data).ngramLogits('ログインできない');
    expect([...a]).toEqual([...b]);
  });
});

describe('the stored model', () => {
  const model = builtInIntentModel();

  it('was trained on every labelled set', () => {
    expect(model.data.trainedOn.sets).toEqual([
      'intent-corpus',
      'heldout-dev',
      'heldout-test',
      'dev-2',
      'heldout-2',
      'dev-3',
      'heldout-3',
      'dev-4',
      'heldout-4',
      'heldout-5',
      'train-6',
      'train-7',
      'train-8',
      'heldout-6',
      'heldout-7',
      'train-9',
      'heldout-8',
      'train-10',
      'train-11',
      'train-12',
    ]);
    expect(model.data.trainedOn.posts).toBeGreaterThanOrEqual(1000);
  });

  it('scores n-grams as forEachBucket (what training reads) says', () => {
    const weights = decodeBase64(model.data.weights);
    for (const text of [
      'ログインできない',
      'the app keeps crashing 3 times',
      '',
      'a',
      '最高！👍 5回目',
      "can't log in, again. why? it's 2am",
    ]) {
      const expected = [0, 0, 0, 0, 0];
      const present = new Set<number>();
      forEachBucket(
        text,
        model.data.bits,
        model.data.maxN,
        (bucket) => present.add(bucket),
        model.data.words === true,
        model.data.languageBuckets === true,
      );
      for (const bucket of present) {
        for (let k = 0; k < 5; k++)
          expected[k] = (expected[k] as number) + (weights[bucket * 5 + k] as number);
      }
      expect([...model.ngramLogits(text)]).toEqual(expected.map((v) => v * model.data.scale));
    }
  });

  it('counts an n-gram once however often it occurs, over more than 255 posts (the marks start afresh)', () => {
    const once = [...model.ngramLogits('エラー')];
    for (let i = 0; i < 600; i++) model.ngramLogits(`post ${i}`);
    // The same n-grams, repeated: the same score.
    expect([...model.ngramLogits('エラーエラー')]).toEqual([...model.ngramLogits('エラーエラーエラー')]);
    expect([...model.ngramLogits('エラー')]).toEqual(once);
  });

  it('folds digits: 3 and 7 are the same n-gram', () => {
    expect([...model.ngramLogits('3回目')]).toEqual([...model.ngramLogits('7回目')]);
  });
});

describe('the n-gram scan', () => {
  // Weights that differ per bucket, so a missed or doubled bucket changes the sum.
  const weights = Buffer.from(Array.from({ length: 1024 * 5 }, (_, i) => (i * 73 + 19) % 256));
  const texts = [
    '',
    'a',
    'ab',
    'abc',
    'エラー',
    'ログインできない',
    "can't log in, again. why? it's 2am",
    '最高！👍 5回目 ok',
  ];

  it.each([1, 2, 3, 4, 5])('sums the buckets forEachBucket gives, with n-grams up to %i', (maxN) => {
    for (const [words, languageBuckets] of [
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      const data = {
        ...followsDictionary(),
        bits: 10,
        maxN,
        weights: weights.toString('base64'),
        words,
        languageBuckets,
      };
      const model = compileModel(data);
      const signed = new Int8Array(weights);
      for (const text of texts) {
        const present = new Set<number>();
        forEachBucket(text, 10, maxN, (bucket) => present.add(bucket), words, languageBuckets);
        const expected = [0, 0, 0, 0, 0];
        for (const bucket of present) {
          for (let k = 0; k < 5; k++)
            expected[k] = (expected[k] as number) + (signed[bucket * 5 + k] as number);
        }
        expect([...model.ngramLogits(text)]).toEqual(expected);
      }
    }
  });
});

describe('compileModel', () => {
  it('rejects a model it cannot read', () => {
    const good = followsDictionary();
    expect(() => compileModel({ ...good, format: 'other' as 'kikimimi-intent-model/1' })).toThrow(/format/u);
    expect(() => compileModel({ ...good, intents: ['praise'] })).toThrow(/intents/u);
    expect(() => compileModel({ ...good, bits: 9 })).toThrow(/bits/u);
    expect(() => compileModel({ ...good, meta: [1, 2] })).toThrow(/meta/u);
    expect(() => compileModel({ ...good, weights: '!!!!' })).toThrow(/base64/u);
  });
});

describe('decodeBase64', () => {
  it('reads what Buffer writes, as signed bytes', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 255, 256]) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 11) % 256));
      expect([...decodeBase64(bytes.toString('base64'))]).toEqual([...new Int8Array(bytes)]);
    }
  });
});
