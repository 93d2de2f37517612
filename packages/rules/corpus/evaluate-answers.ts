/**
 * Evaluates the answer classifier (built-in words, no team words) on the labelled answer sets.
 *
 *   node corpus/evaluate-answers.ts                 the held-out set: accuracy, macro-F1 per language, P/R/F1, confusion
 *   node corpus/evaluate-answers.ts --errors        … and every misclassified answer with its signals
 *   node corpus/evaluate-answers.ts --corpus FILE   another JSONL file in the same format
 *   node corpus/evaluate-answers.ts --all           the development set, then the held-out set
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ANSWER_KINDS, type AnswerKind, createAnswerClassifier } from '../src/classify/answers.ts';
import { type ClassMetrics, classMetrics } from './evaluate.ts';

/** Written and committed before the answer dictionaries; never tuned on. */
export const ANSWERS_HELDOUT = fileURLToPath(new URL('./answers-heldout.jsonl', import.meta.url));
/** The development set: its errors were read while the answer dictionaries were built. */
export const ANSWERS_DEV = fileURLToPath(new URL('./answers-dev.jsonl', import.meta.url));

const answerSchema = z
  .object({
    id: z.string().min(1),
    lang: z.enum(['ja', 'en']),
    text: z.string().min(1),
    kind: z.enum(ANSWER_KINDS as [AnswerKind, ...AnswerKind[]]),
  })
  .strict();

/** One labelled answer. */
export type LabelledAnswer = z.infer<typeof answerSchema>;

export interface AnswerEvaluation {
  total: number;
  correct: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<AnswerKind, ClassMetrics>;
  confusion: Record<AnswerKind, Record<AnswerKind, number>>;
  byLanguage: Record<'ja' | 'en', { total: number; accuracy: number; macroF1: number }>;
  /** Answers whose detected language differs from the label. */
  languageErrors: number;
  errors: Array<{
    id: string;
    lang: string;
    text: string;
    expected: AnswerKind;
    actual: AnswerKind;
    signals: string[];
  }>;
}

/** Reads and validates a JSONL answer set; a bad line is an error naming the line. */
export function loadAnswers(path: string = ANSWERS_HELDOUT): LabelledAnswer[] {
  const answers: LabelledAnswer[] = [];
  const ids = new Set<string>();
  for (const [index, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new Error(`${path}:${index + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = answerSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${index + 1}: ${parsed.error.message}`);
    if (ids.has(parsed.data.id)) throw new Error(`${path}:${index + 1}: duplicate id ${parsed.data.id}`);
    ids.add(parsed.data.id);
    answers.push(parsed.data);
  }
  return answers;
}

function matrix(): Record<AnswerKind, Record<AnswerKind, number>> {
  const out = {} as Record<AnswerKind, Record<AnswerKind, number>>;
  for (const expected of ANSWER_KINDS) {
    out[expected] = { thanks: 0, unhappy: 0, question: 0, other: 0 };
  }
  return out;
}

export function evaluateAnswers(answers: readonly LabelledAnswer[]): AnswerEvaluation {
  const classifier = createAnswerClassifier();
  const confusion = matrix();
  const perLanguage = { ja: matrix(), en: matrix() };
  const errors: AnswerEvaluation['errors'] = [];
  let languageErrors = 0;
  for (const answer of answers) {
    const result = classifier.classify(answer.text);
    confusion[answer.kind][result.kind]++;
    perLanguage[answer.lang][answer.kind][result.kind]++;
    if (result.lang !== answer.lang) languageErrors++;
    if (result.kind !== answer.kind) {
      errors.push({
        id: answer.id,
        lang: answer.lang,
        text: answer.text,
        expected: answer.kind,
        actual: result.kind,
        signals: result.signals.map(
          (s) => `${s.kind}:${s.word}${s.negated ? '(neg)' : ''}×${Number(s.weight.toFixed(2))}`,
        ),
      });
    }
  }
  const correct = ANSWER_KINDS.reduce((sum, kind) => sum + confusion[kind][kind], 0);
  const language = (lang: 'ja' | 'en') => {
    const m = perLanguage[lang];
    const total = ANSWER_KINDS.reduce((sum, e) => sum + ANSWER_KINDS.reduce((s, a) => s + m[e][a], 0), 0);
    const right = ANSWER_KINDS.reduce((sum, kind) => sum + m[kind][kind], 0);
    return {
      total,
      accuracy: total === 0 ? 0 : right / total,
      macroF1: classMetrics(ANSWER_KINDS, m).macroF1,
    };
  };
  const { perClass, macroF1 } = classMetrics(ANSWER_KINDS, confusion);
  return {
    total: answers.length,
    correct,
    accuracy: answers.length === 0 ? 0 : correct / answers.length,
    macroF1,
    perClass,
    confusion,
    byLanguage: { ja: language('ja'), en: language('en') },
    languageErrors,
    errors,
  };
}

const pad = (text: string, width: number): string => text.padEnd(width);
const padStart = (text: string, width: number): string => text.padStart(width);

export function formatAnswerEvaluation(evaluation: AnswerEvaluation, withErrors: boolean): string {
  const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
  const { ja, en } = evaluation.byLanguage;
  const out = [
    `answers: ${evaluation.total}`,
    `accuracy: ${pct(evaluation.accuracy)} (${evaluation.correct}/${evaluation.total})`,
    `macro-F1: ${evaluation.macroF1.toFixed(3)}`,
    `by language: ja ${pct(ja.accuracy)} macro-F1 ${ja.macroF1.toFixed(3)} (n=${ja.total}), ` +
      `en ${pct(en.accuracy)} macro-F1 ${en.macroF1.toFixed(3)} (n=${en.total})`,
    `language detected wrongly: ${evaluation.languageErrors}`,
    '',
    `${pad('kind', 11)}${padStart('precision', 10)}${padStart('recall', 8)}${padStart('F1', 7)}${padStart('n', 5)}`,
  ];
  for (const kind of ANSWER_KINDS) {
    const m = evaluation.perClass[kind];
    out.push(
      `${pad(kind, 11)}${padStart(m.precision.toFixed(3), 10)}${padStart(m.recall.toFixed(3), 8)}` +
        `${padStart(m.f1.toFixed(3), 7)}${padStart(String(m.support), 5)}`,
    );
  }
  out.push('', 'confusion (rows: label, columns: predicted)');
  out.push(pad('', 11) + ANSWER_KINDS.map((kind) => padStart(kind, 10)).join(''));
  for (const expected of ANSWER_KINDS) {
    out.push(
      pad(expected, 11) +
        ANSWER_KINDS.map((actual) => padStart(String(evaluation.confusion[expected][actual]), 10)).join(''),
    );
  }
  if (withErrors) {
    out.push('', `misclassified (${evaluation.errors.length}):`);
    for (const error of evaluation.errors) {
      out.push(`${error.id} [${error.lang}] ${error.expected} → ${error.actual}: ${error.text}`);
      out.push(`    ${error.signals.length === 0 ? '(no signals)' : error.signals.join('  ')}`);
    }
  }
  return out.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const corpusFlag = args.indexOf('--corpus');
  const path = corpusFlag >= 0 ? args[corpusFlag + 1] : undefined;
  if (corpusFlag >= 0 && path === undefined) {
    console.error('usage: node corpus/evaluate-answers.ts [--errors] [--corpus FILE | --all]');
    process.exit(2);
  }
  const paths = args.includes('--all') ? [ANSWERS_DEV, ANSWERS_HELDOUT] : [path ?? ANSWERS_HELDOUT];
  console.log(
    paths
      .map(
        (file) =>
          `== ${basename(file)}\n${formatAnswerEvaluation(evaluateAnswers(loadAnswers(file)), args.includes('--errors'))}`,
      )
      .join('\n\n'),
  );
}
