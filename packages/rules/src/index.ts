export {
  ANSWER_KINDS,
  type AnswerClassifier,
  type AnswerKind,
  type AnswerLanguage,
  type AnswerOptions,
  type AnswerResult,
  type AnswerSignal,
  type AnswerSignalKind,
  answerBody,
  classifyAnswer,
  createAnswerClassifier,
} from './classify/answers.ts';
export {
  type Classifier,
  type ClassifierOptions,
  categoryForIntent,
  createClassifier,
  type IntentResult,
  type IntentSignal,
  type ModelReading,
} from './classify/classify.ts';
export * from './config.ts';
export * from './engine.ts';
export * from './escalate.ts';
export { handleProblem, isValidHandle } from './handles.ts';
export * from './load-config.ts';
export { createMatcher, type MatchEntry, type Matcher } from './match/matcher.ts';
export { isWordCode, normalizeTag, normalizeText, type SplitText, splitUrls } from './normalize.ts';
export * from './platform-queries.ts';
export * from './post.ts';
export { localPart, type PreparedPost, preparePost } from './prepare.ts';
export * from './query/errors.ts';
export * from './query/parse.ts';
export type * from './query-ast.ts';
export * from './suppress.ts';
export * from './surge/index.ts';
export * from './templates/length.ts';
export * from './templates/render.ts';
export * from './templates/reply-text.ts';
