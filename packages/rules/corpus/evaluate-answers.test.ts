import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANSWER_KINDS } from '../src/classify/answers.ts';
import {
  ANSWERS_DEV,
  ANSWERS_HELDOUT,
  evaluateAnswers,
  formatAnswerEvaluation,
  loadAnswers,
} from './evaluate-answers.ts';

const heldout = loadAnswers(ANSWERS_HELDOUT);

describe('answer sets', () => {
  it('the held-out set holds at least 120 answers in both languages, every kind in each', () => {
    expect(heldout.length).toBeGreaterThanOrEqual(120);
    for (const lang of ['ja', 'en'] as const) {
      const answers = heldout.filter((answer) => answer.lang === lang);
      expect(answers.length).toBeGreaterThanOrEqual(50);
      for (const kind of ANSWER_KINDS) {
        expect(answers.filter((answer) => answer.kind === kind).length).toBeGreaterThanOrEqual(10);
      }
    }
  });

  it('the development and held-out sets share no text', () => {
    const dev = new Set(loadAnswers(ANSWERS_DEV).map((answer) => answer.text));
    expect(heldout.filter((answer) => dev.has(answer.text))).toEqual([]);
  });
});

describe('loadAnswers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kikimimi-answers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects an unknown kind, naming the line', () => {
    const path = join(dir, 'bad-kind.jsonl');
    writeFileSync(
      path,
      '{"id":"a1","lang":"ja","text":"どうも","kind":"thanks"}\n{"id":"a2","lang":"en","text":"meh","kind":"angry"}\n',
    );
    expect(() => loadAnswers(path)).toThrow(/bad-kind\.jsonl:2/u);
  });

  it('rejects a line that is not JSON, naming it', () => {
    const path = join(dir, 'broken.jsonl');
    writeFileSync(path, '{"id":"a1","lang":"ja","text":"どうも","kind":"thanks"}\n{"id":\n');
    expect(() => loadAnswers(path)).toThrow(/broken\.jsonl:2: not JSON/u);
  });

  it('rejects duplicate ids', () => {
    const path = join(dir, 'duplicate.jsonl');
    writeFileSync(
      path,
      '{"id":"a1","lang":"ja","text":"どうも","kind":"thanks"}\n{"id":"a1","lang":"en","text":"ok","kind":"thanks"}\n',
    );
    expect(() => loadAnswers(path)).toThrow(/duplicate id a1/u);
  });
});

describe('evaluateAnswers (regression guard, not a target: the held-out set is never tuned on)', () => {
  const evaluation = evaluateAnswers(heldout);

  it('keeps held-out macro-F1 at or above 0.85 overall and 0.8 per language', () => {
    expect(evaluation.macroF1).toBeGreaterThanOrEqual(0.85);
    expect(evaluation.byLanguage.ja.macroF1).toBeGreaterThanOrEqual(0.8);
    expect(evaluation.byLanguage.en.macroF1).toBeGreaterThanOrEqual(0.8);
  });

  it('counts every answer once in the confusion matrix and prints per-language figures', () => {
    const cells = ANSWER_KINDS.flatMap((e) => ANSWER_KINDS.map((a) => evaluation.confusion[e][a]));
    expect(cells.reduce((sum, n) => sum + n, 0)).toBe(heldout.length);
    expect(evaluation.correct + evaluation.errors.length).toBe(heldout.length);
    expect(formatAnswerEvaluation(evaluation, false)).toMatch(
      /by language: ja .* macro-F1 0\.\d{3} \(n=71\), en /u,
    );
  });
});
