/**
 * Answer classifier: what a customer's answer to our reply says — thanks / unhappy / question /
 * other — with the words that decided it and the answer's language.
 *
 * It is the intent classifier (classify.ts) with the answer words of answer-dictionaries.ts added:
 * the same normalisation, trie, negation on each language's side (直ってない, "didn't help"), contrast
 * weighting (thanks *but* …), irony markers ((棒), "cool cool cool") and grammar constructions. Its
 * scores are read as: praise → thanks, complaint + trouble → unhappy, question → question.
 *
 * Decision:
 *   1. Unhappy wins when it has real evidence (≥ UNHAPPY_FLOOR) and at least half the strongest
 *      other kind: polite thanks around "still not fixed" do not make the case resolved
 *      ("ありがとう、全然直ってないけど" is unhappy).
 *   2. Otherwise a question with real evidence (≥ QUESTION_FLOOR) wins over thanks: "thanks! does
 *      this work on Android too?" needs an answer.
 *   3. Otherwise the highest of the three, if it reaches MIN_EVIDENCE (ties: unhappy > question >
 *      thanks); else other.
 */
import { type ClassifierConfig, classifierSchema } from '../config.ts';
import { normalizeText, splitUrls } from '../normalize.ts';
import { ANSWER_WORDS } from './answer-dictionaries.ts';
import { type Classifier, createClassifier, type IntentSignal } from './classify.ts';
import { BUILT_IN_DICTIONARIES, type SignalIntent } from './dictionaries.ts';

/** What an answer to our reply says. */
export type AnswerKind = 'thanks' | 'unhappy' | 'question' | 'other';
export const ANSWER_KINDS: readonly AnswerKind[] = ['thanks', 'unhappy', 'question', 'other'];
/** The kinds a word can signal; "other" is the absence of signals. */
export type AnswerSignalKind = Exclude<AnswerKind, 'other'>;

/** The language of an answer: Japanese when it holds kana or kanji, English for other Latin text. */
export type AnswerLanguage = 'ja' | 'en' | 'und';

/** One word (or construction) found in the answer. */
export interface AnswerSignal {
  /** The kind it counted for (a negated "解決しました"-type word counts for unhappy). */
  kind: AnswerSignalKind;
  /** The dictionary entry as written (e.g. "直って" for 直ってない, "help" for "didn't help"). */
  word: string;
  /** A negator stood next to the word. */
  negated: boolean;
  /** The entry's weight after context (words before a "but"/けど count less). */
  weight: number;
}

/** The verdict on one answer. */
export interface AnswerResult {
  kind: AnswerKind;
  /** The words behind it, in text order, each once (at most the intent classifier's MAX_SIGNALS). */
  signals: AnswerSignal[];
  lang: AnswerLanguage;
  scores: Record<AnswerSignalKind, number>;
}

/** A compiled answer classifier. */
export interface AnswerClassifier {
  /** Classifies an answer as posted: raw text with @mentions, links, emoji. */
  classify(text: string): AnswerResult;
}

export interface AnswerOptions {
  /** A classifier compiled with the team's words (createAnswerClassifier); the built-in one otherwise. */
  classifier?: AnswerClassifier;
}

/** Unhappy evidence at least this strong beats thanks and questions up to twice as strong. */
const UNHAPPY_FLOOR = 1;
/** A question this strong beats thanks. */
const QUESTION_FLOOR = 1;
/** Below this nothing is decided: the answer is "other". */
const MIN_EVIDENCE = 0.5;

/** @name, @name@instance (X and Mastodon), not the @ inside an e-mail address. */
const MENTION = /(?<![\w.])@[a-z0-9_]+(?:@[a-z0-9.-]+[a-z0-9])?/gu;
const JAPANESE = /[\u3041-\u30ff\u3400-\u9fff\uf900-\ufaff々]/u;
const LATIN = /[a-z]/u;

/** Trouble words that only count negated: negated, they are the problem itself ("直ってない"). */
const NEEDS_NEGATION = new Set(
  [...BUILT_IN_DICTIONARIES.trouble, ...(ANSWER_WORDS.trouble ?? [])]
    .filter((word) => word.needsNegation === true)
    .map((word) => word.word),
);

/** The kind a signal counts for, following the intent classifier's scoring of negated words. */
function kindOf(signal: IntentSignal): AnswerSignalKind {
  const intent: SignalIntent = signal.intent;
  if (intent === 'question') return 'question';
  if (!signal.negated) return intent === 'praise' ? 'thanks' : 'unhappy';
  if (intent === 'praise') return 'unhappy';
  if (intent === 'complaint') return 'thanks';
  return NEEDS_NEGATION.has(signal.word) ? 'unhappy' : 'thanks';
}

/** The answer's body as the dictionaries see it: links out, normalised, mentions removed. */
export function answerBody(text: string): string {
  return normalizeText(normalizeText(splitUrls(text).prose).replace(MENTION, ' '));
}

function languageOf(body: string): AnswerLanguage {
  if (JAPANESE.test(body)) return 'ja';
  return LATIN.test(body) ? 'en' : 'und';
}

function decide(scores: Record<AnswerSignalKind, number>): AnswerKind {
  const { thanks, unhappy, question } = scores;
  if (unhappy >= UNHAPPY_FLOOR - 1e-9 && unhappy * 2 >= Math.max(thanks, question) - 1e-9) return 'unhappy';
  if (question >= QUESTION_FLOOR - 1e-9) return 'question';
  const top = Math.max(thanks, unhappy, question);
  if (top < MIN_EVIDENCE - 1e-9) return 'other';
  if (unhappy >= top - 1e-9) return 'unhappy';
  if (question >= top - 1e-9) return 'question';
  return 'thanks';
}

/**
 * Compiles an answer classifier. `config` is the team's intent configuration: its praise words count
 * as thanks, complaint and trouble words as unhappy, question words as questions.
 */
export function createAnswerClassifier(
  config: ClassifierConfig = classifierSchema.parse(undefined),
): AnswerClassifier {
  const intents: Classifier = createClassifier(config, ANSWER_WORDS, { model: null });
  return {
    classify(text: string): AnswerResult {
      if (typeof text !== 'string')
        throw new TypeError(`classifyAnswer: text must be a string, got ${typeof text}`);
      const body = answerBody(text);
      const result = intents.classify(body);
      const scores: Record<AnswerSignalKind, number> = {
        thanks: result.scores.praise,
        unhappy: result.scores.complaint + result.scores.trouble,
        question: result.scores.question,
      };
      return {
        kind: decide(scores),
        signals: result.signals.map((signal) => ({
          kind: kindOf(signal),
          word: signal.word,
          negated: signal.negated,
          weight: signal.weight,
        })),
        lang: languageOf(body),
        scores,
      };
    },
  };
}

let builtIn: AnswerClassifier | undefined;

/**
 * What a customer's answer to our reply says: thanks, unhappy (still unhappy, angry, not solved,
 * sarcastic), a new question, or other; with the words that decided it and its language.
 */
export function classifyAnswer(text: string, options: AnswerOptions = {}): AnswerResult {
  if (options.classifier !== undefined) return options.classifier.classify(text);
  builtIn ??= createAnswerClassifier();
  return builtIn.classify(text);
}
