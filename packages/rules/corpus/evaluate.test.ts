import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Intent, intentSchema } from '../src/config.ts';
import { evaluateCorpus, loadCorpus } from './evaluate.ts';

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

describe('evaluateCorpus (regression guard)', () => {
  const evaluation = evaluateCorpus(corpus);

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
