import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Intent, intentSchema } from '../src/config.ts';
import {
  ALL_CORPORA,
  DEV_3,
  DEV_4,
  evaluateCorpus,
  HELDOUT_2,
  HELDOUT_3,
  HELDOUT_4,
  HELDOUT_5,
  HELDOUT_6,
  HELDOUT_7,
  HELDOUT_8,
  loadCorpus,
  TRAIN_6,
  TRAIN_7,
  TRAIN_8,
  TRAIN_9,
  TRAIN_10,
  TRAIN_11,
  TRAIN_12,
} from './evaluate.ts';

const corpus = loadCorpus();

describe('intent corpus', () => {
  it('holds at least 200 posts', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
  });

  it.each(intentSchema.options)('has a reasonable share of %s posts', (intent: Intent) => {
    const count = corpus.filter((post) => post.intent === intent).length;
    expect(count).toBeGreaterThanOrEqual(corpus.length * 0.1);
  });

  it('mixes Japanese and English', () => {
    const japanese = corpus.filter((post) => post.lang === 'ja').length;
    expect(japanese / corpus.length).toBeGreaterThan(0.5);
    expect(japanese / corpus.length).toBeLessThan(0.75);
  });

  it('has valid labels and unique ids', () => {
    expect(new Set(corpus.map((post) => post.id)).size).toBe(corpus.length);
    for (const post of corpus) expect(intentSchema.options).toContain(post.intent);
  });
});

describe('loadCorpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kikimimi-corpus-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects an unknown label, naming the line', () => {
    const path = join(dir, 'bad-label.jsonl');
    writeFileSync(
      path,
      '{"id":"x1","lang":"ja","text":"最高","intent":"praise"}\n{"id":"x2","lang":"en","text":"meh","intent":"angry"}\n',
    );
    expect(() => loadCorpus(path)).toThrow(/bad-label\.jsonl:2/u);
  });

  it('rejects duplicate ids', () => {
    const path = join(dir, 'duplicate.jsonl');
    writeFileSync(
      path,
      '{"id":"x1","lang":"ja","text":"最高","intent":"praise"}\n{"id":"x1","lang":"ja","text":"最悪","intent":"complaint"}\n',
    );
    expect(() => loadCorpus(path)).toThrow(/duplicate id x1/u);
  });
});

// The dictionaries alone: with the learned model (trained on this corpus) the figure is in-sample.
describe('evaluateCorpus (regression guard, dictionaries alone)', () => {
  const evaluation = evaluateCorpus(corpus, { dictionaryOnly: true });

  it('keeps macro-F1 at or above 0.8', () => {
    expect(evaluation.macroF1).toBeGreaterThanOrEqual(0.8);
  });

  it('keeps every class usable (F1 ≥ 0.7)', () => {
    for (const intent of intentSchema.options) {
      expect({ intent, f1: evaluation.perClass[intent].f1 }).toEqual({
        intent,
        f1: expect.toSatisfy((f1: number) => f1 >= 0.7),
      });
    }
  });

  it('adds up: the confusion matrix covers every post once', () => {
    let cells = 0;
    for (const expected of intentSchema.options) {
      for (const actual of intentSchema.options) cells += evaluation.confusion[expected][actual];
    }
    expect(cells).toBe(evaluation.total);
    expect(evaluation.total - evaluation.correct).toBe(evaluation.errors.length);
  });
});

describe('evaluateCorpus by language', () => {
  it('computes macro-F1 per language from that language’s posts only', () => {
    const posts = [
      { id: 'j1', lang: 'ja', text: '最高', intent: 'praise' },
      { id: 'j2', lang: 'ja', text: 'ログインできない', intent: 'trouble' },
      { id: 'e1', lang: 'en', text: 'hello there', intent: 'praise' },
      { id: 'e2', lang: 'en', text: 'app keeps crashing', intent: 'trouble' },
    ] as const;
    const evaluation = evaluateCorpus(posts, { dictionaryOnly: true });
    expect(evaluation.byLanguage.ja.macroF1).toBe(1);
    // en: the praise post is missed (no signal → neutral), so praise F1 is 0 and trouble F1 is 1.
    expect(evaluation.byLanguage.en.macroF1).toBeCloseTo(0.5, 5);
  });
});

describe('heldout-2', () => {
  const heldout = loadCorpus(HELDOUT_2);
  it('has at least 60 posts per language and every intent in each', () => {
    for (const lang of ['ja', 'en'] as const) {
      const posts = heldout.filter((post) => post.lang === lang);
      expect(posts.length).toBeGreaterThanOrEqual(60);
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.intent === intent).length).toBeGreaterThanOrEqual(12);
      }
    }
  });
});

describe('heldout-3 and dev-3', () => {
  it('heldout-3 has at least 70 posts per language and every intent in each', () => {
    const heldout = loadCorpus(HELDOUT_3);
    for (const lang of ['ja', 'en'] as const) {
      const posts = heldout.filter((post) => post.lang === lang);
      expect(posts.length).toBeGreaterThanOrEqual(70);
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.intent === intent).length).toBeGreaterThanOrEqual(14);
      }
    }
  });

  it('dev-3 has at least 100 posts in both languages, and no text shared with heldout-3', () => {
    const dev = loadCorpus(DEV_3);
    expect(dev.length).toBeGreaterThanOrEqual(100);
    expect(new Set(dev.map((post) => post.lang))).toEqual(new Set(['ja', 'en']));
    const heldoutTexts = new Set(loadCorpus(HELDOUT_3).map((post) => post.text));
    expect(dev.filter((post) => heldoutTexts.has(post.text))).toEqual([]);
  });
});

describe('heldout-4 and dev-4 (round 5)', () => {
  it('heldout-4 has 40 posts per language, every intent in each, complaints the largest share', () => {
    const heldout = loadCorpus(HELDOUT_4);
    for (const lang of ['ja', 'en'] as const) {
      const posts = heldout.filter((post) => post.lang === lang);
      expect(posts.length).toBe(40);
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.intent === intent).length).toBeGreaterThanOrEqual(6);
      }
      expect(posts.filter((post) => post.intent === 'complaint').length).toBe(12);
    }
  });

  it('dev-4 shares no text with any held-out set', () => {
    const heldoutTexts = new Set(
      [HELDOUT_2, HELDOUT_3, HELDOUT_4].flatMap((file) => loadCorpus(file).map((post) => post.text)),
    );
    expect(loadCorpus(DEV_4).filter((post) => heldoutTexts.has(post.text))).toEqual([]);
  });
});

describe('train-6 to train-8 (round 7, written to train the model on)', () => {
  it.each([
    [TRAIN_6, 40, 40],
    [TRAIN_7, 24, 24],
    [TRAIN_8, 16, 24],
  ])('%s has the same number of posts per intent in each language', (file, ja, en) => {
    const posts = loadCorpus(file);
    for (const [lang, perIntent] of [
      ['ja', ja],
      ['en', en],
    ] as const) {
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.lang === lang && post.intent === intent).length).toBe(perIntent);
      }
    }
  });

  it('share no text with any other labelled set', () => {
    const others = ALL_CORPORA.filter((file) => ![TRAIN_6, TRAIN_7, TRAIN_8].includes(file));
    expect(others).toContain(HELDOUT_5);
    const texts = new Set(others.flatMap((file) => loadCorpus(file).map((post) => post.text)));
    const training = [TRAIN_6, TRAIN_7, TRAIN_8].flatMap((file) => loadCorpus(file));
    expect(training.filter((post) => texts.has(post.text))).toEqual([]);
    expect(new Set(training.map((post) => post.text)).size).toBe(training.length);
  });
});

describe('round 8: heldout-6 and -7 are trained on; train-9 was written to train on', () => {
  it('heldout-6 and -7 are labelled sets now (both measured once, blind, in round 7)', () => {
    expect(ALL_CORPORA).toContain(HELDOUT_6);
    expect(ALL_CORPORA).toContain(HELDOUT_7);
  });

  it('no blind set of a later round is trained on', () => {
    expect(ALL_CORPORA.filter((file) => /heldout-(?:9|\d\d)\.jsonl$/u.test(file))).toEqual([]);
  });

  it('train-9 is English-heavy, with the same number of posts per intent in each language', () => {
    const posts = loadCorpus(TRAIN_9);
    for (const [lang, perIntent] of [
      ['ja', 16],
      ['en', 80],
    ] as const) {
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.lang === lang && post.intent === intent).length).toBe(perIntent);
      }
    }
  });

  it('train-9 shares no text with any other labelled set', () => {
    const others = ALL_CORPORA.filter((file) => file !== TRAIN_9);
    const texts = new Set(others.flatMap((file) => loadCorpus(file).map((post) => post.text)));
    const posts = loadCorpus(TRAIN_9);
    expect(posts.filter((post) => texts.has(post.text))).toEqual([]);
    expect(new Set(posts.map((post) => post.text)).size).toBe(posts.length);
  });
});

describe('round 9: heldout-8 is trained on; train-10 to -12 were written by three new author crowds', () => {
  it('heldout-8 is a labelled set now (measured once, blind, after round 8)', () => {
    expect(ALL_CORPORA).toContain(HELDOUT_8);
  });

  it.each([
    [TRAIN_10, 16, 64],
    [TRAIN_11, 24, 56],
    [TRAIN_12, 50, 30],
  ])('%s has the same number of posts per intent in each language', (file, ja, en) => {
    const posts = loadCorpus(file);
    for (const [lang, perIntent] of [
      ['ja', ja],
      ['en', en],
    ] as const) {
      for (const intent of intentSchema.options) {
        expect(posts.filter((post) => post.lang === lang && post.intent === intent).length).toBe(perIntent);
      }
    }
  });

  it('train-10 to -12 share no text with any other labelled set', () => {
    const sets = [TRAIN_10, TRAIN_11, TRAIN_12];
    const others = ALL_CORPORA.filter((file) => !sets.includes(file));
    const texts = new Set(others.flatMap((file) => loadCorpus(file).map((post) => post.text)));
    const training = sets.flatMap((file) => loadCorpus(file));
    expect(training.filter((post) => texts.has(post.text))).toEqual([]);
    expect(new Set(training.map((post) => post.text)).size).toBe(training.length);
  });
});
