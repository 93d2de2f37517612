/**
 * Intent classifier: praise / complaint / trouble / question / neutral for one post, with the words
 * that decided it.
 *
 * Dictionaries are compiled once into a character trie; a post is classified in one left-to-right
 * scan (leftmost-longest match, non-overlapping), looking only a few characters around each match
 * for negation. Input is prose already passed through splitUrls and normalizeText. The same trie
 * holds ad/news notice markers (NOTICE_MARKERS) and words that only look like signals
 * (NON_SIGNALS: ください holds ださい); matching them first keeps their letters from being read again.
 * After the scan, grammar-level constructions (constructions.ts: 何回目?, 前は…のに, "again.",
 * 〜ないとできない …) add signals that no single word carries.
 *
 * Decision (also in corpus/LABELLING.md):
 *   1. No intent reaches MIN_EVIDENCE → neutral. Ad, news and official-notice markers (【お知らせ】,
 *      #PR, "announces" …) raise that bar by their weight: such posts are neutral unless the
 *      evidence for an intent is strong.
 *   2. Guidance first: trouble wins whenever it has real evidence (≥ TROUBLE_FLOOR) and at least
 *      half the top score — someone who is stuck needs help before an apology or a thank-you.
 *      Not in an ironic post ((皮肉), /s, "love how it crashed"): that author is venting, and the
 *      highest score decides.
 *   3. Otherwise the highest score wins; ties go trouble > complaint > question > praise, because
 *      thanking an unhappy person does more harm than apologising to a content one.
 *
 * That is the dictionary's verdict. With the built-in dictionaries the learned model (model.ts,
 * trained on the labelled corpus) then has the last word: it weighs the post's character n-grams
 * against the dictionary's scores and verdict, and a team's configured words on top (issue 13). The
 * signals stay the dictionary's words; IntentResult.model says what the model concluded and what the
 * dictionary alone would have said.
 */
import type { Category, ClassifierConfig, Intent } from '../config.ts';
import { isWordCode, normalizeText } from '../normalize.ts';
import { CONSTRUCTIONS, type Construction, IMPROVED, IMPROVED_GATE, PAST_PRAISE } from './constructions.ts';
import {
  ABILITY_NEGATORS,
  BUILT_IN_DICTIONARIES,
  type DictionaryWord,
  ENGLISH_NEGATORS,
  IRONY_MARKERS,
  IRONY_OPENERS,
  JAPANESE_NEGATORS,
  JAPANESE_TROUBLE_ENDINGS,
  NEGATION_GAP_WORDS,
  NON_SIGNALS,
  NOTICE_MARKERS,
  type SignalIntent,
  TROUBLE_NEGATORS,
} from './dictionaries.ts';
import { FlatTrie, type MapTrieNode, NONE } from './flat-trie.ts';
import intentModelData from './intent-model.json' with { type: 'json' };
import { compileModel, type DictionaryReading, type IntentModel, type IntentModelData } from './model.ts';

export type { DictionaryWord, SignalIntent } from './dictionaries.ts';
export type { IntentModel } from './model.ts';

/** The reply category an intent leads to ("custom" templates are chosen by people, not by intent). */
export type ReplyCategory = Exclude<Category, 'custom'>;

/** One dictionary word found in a post: the evidence a reviewer sees behind an IntentResult. */
export interface IntentSignal {
  /** The dictionary the word belongs to (a negated word may count for another intent, see scores). */
  intent: SignalIntent;
  /** The dictionary entry as written in the dictionary or the configuration (e.g. "ログインでき", "log in"). */
  word: string;
  /** Offset of the match in the normalised text. */
  at: number;
  /** A negator stood next to the word; for words that only count negated ("can't log in") always true. */
  negated: boolean;
  /** The entry's weight after context (words before a "but"/けど count less). */
  weight: number;
}

/** An ad, news or official-notice marker found in a post (see NOTICE_MARKERS). */
export interface NoticeMarker {
  /** The marker as written in the dictionary (e.g. "【お知らせ】", "#PR", "announces"). */
  word: string;
  /** Offset of the match in the normalised text. */
  at: number;
  /** The extra evidence an intent needs because of this marker. */
  weight: number;
}

/**
 * The most signals (and notice markers) an IntentResult reports. The decision uses every word found;
 * the list people read keeps each word once, the ones behind the verdict first, so a 5,000-character
 * post gives a decision of a few kilobytes, not hundreds of signals.
 */
export const MAX_SIGNALS = 20;

/** The classifier's verdict on one post, with the evidence for it. */
export interface IntentResult {
  intent: Intent;
  category: ReplyCategory | null;
  /** The words that decided it: each (word, negated) once, at most MAX_SIGNALS, in text order. */
  signals: IntentSignal[];
  scores: Record<SignalIntent, number>;
  /** Ad/news/notice markers, each once, at most MAX_SIGNALS; each raises the evidence an intent needs. */
  notices: NoticeMarker[];
  /** Present when the learned model decided `intent` (the built-in dictionaries are on). */
  model?: ModelReading;
}

/** What the learned model concluded, for people reading a decision ("model: complaint 82 %"). */
export interface ModelReading {
  /** The model's verdict: the `intent` of the result. */
  intent: Intent;
  /** The model's probability for it, 0–1 (rounded to 3 decimals). */
  probability: number;
  /** What the dictionary words alone would have decided. */
  dictionary: Intent;
}

/** A compiled classifier. */
export interface Classifier {
  /** Classifies text already passed through splitUrls (prose) and normalizeText. */
  classify(normalizedProse: string): IntentResult;
}

/** The learned model shipped with the built-in dictionaries (scripts/train-intent-model.ts writes it). */
let builtInModel: IntentModel | undefined;

/** The shipped intent model, compiled on first use. */
export function builtInIntentModel(): IntentModel {
  builtInModel ??= compileModel(intentModelData as IntentModelData);
  return builtInModel;
}

/** Options of createClassifier beyond the dictionaries. */
export interface ClassifierOptions {
  /**
   * The learned model that makes the final call; null: the dictionary decides alone. Default: the
   * shipped model when the built-in dictionaries are on (it was trained with them), none when a team
   * replaced them (`useBuiltIn: false`).
   */
  readonly model?: IntentModel | null;
}

/** The dictionary's reading of a post as the model takes it, from a result of a classifier without a model. */
export function dictionaryReading(result: IntentResult): DictionaryReading {
  let noticeWeight = 0;
  for (const notice of result.notices) noticeWeight += notice.weight;
  return { scores: result.scores, intent: result.model?.dictionary ?? result.intent, noticeWeight };
}

/** Entry rank of a word from the team's configuration (see Entry.rank). */
const TEAM_RANK = 2;
/** Weight of a word a team adds in its configuration. */
const CONFIG_WORD_WEIGHT = 1.5;
/** Below this nothing is decided: the post is neutral. */
const MIN_EVIDENCE = 0.5;
/** Trouble evidence at least this strong takes precedence (guidance first). */
const TROUBLE_FLOOR = 1;
/** Words before the last contrast marker (but, けど, のに …) carry this share of their weight. */
const BEFORE_CONTRAST = 0.6;
/** How much a negated word counts for the opposite intent ("not bad" is faint praise). */
const NEGATED_PRAISE_AS_COMPLAINT = 0.6;
const NEGATED_COMPLAINT_AS_PRAISE = 0.5;
const NEGATED_TROUBLE_AS_PRAISE = 0.3;
/**
 * A single praise word in scare quotes ('the "improved" layout') is sarcasm: it counts like negated
 * praise. Quoted phrases ("thank you for waiting") are more often plain quotation and stand.
 */
const QUOTES = new Set([0x22, 0x201c, 0x201d]);
/** English words allowed between a negator and its word. */
const MAX_GAP_WORDS = 3;

const PRECEDENCE: readonly SignalIntent[] = ['trouble', 'complaint', 'question', 'praise'];
const INFLECTIONS: readonly string[] = ['い', 'く', 'かっ', 'すぎ'];

const APOSTROPHE = 0x27;
const RIGHT_QUOTE = 0x2019; // ’ — NFKC keeps it; treated as '
const I_ENDING = 0x3044; // い
const NO = 0x306e; // の

type NegationSide = 'before' | 'after' | 'none';

/**
 * What a match does: count as evidence, mark a notice, mark irony (a marker, or an opener that is
 * irony when trouble or a complaint follows), or nothing (a word that only looks like one).
 */
type EntryRole = 'signal' | 'notice' | 'irony' | 'opener' | 'skip';

interface Entry {
  readonly role: EntryRole;
  readonly intent: SignalIntent;
  readonly word: string;
  /** The entry as written, for people reading the signals. */
  readonly label: string;
  readonly weight: number;
  readonly needsNegation: boolean;
  readonly sentenceStart: boolean;
  readonly clauseStart: boolean;
  readonly boundaryEnd: boolean;
  readonly negation: NegationSide;
  /** The key ends in an adjective's く (悪く, 使いにくく): ない right after is always a negation. */
  readonly adjectival: boolean;
  /** Where the word comes from: built-in 0, a specialised classifier's own words 1, the team's configuration 2. */
  readonly rank: number;
}

type TrieNode = MapTrieNode<Entry>;

function isJapaneseLetter(c: number): boolean {
  return (
    (c >= 0x3041 && c <= 0x30ff) || // kana, ー
    (c >= 0x3400 && c <= 0x9fff) || // CJK ideographs
    (c >= 0xf900 && c <= 0xfaff) ||
    c === 0x3005 // 々
  );
}

function isHiragana(c: number): boolean {
  return c >= 0x3041 && c <= 0x3096;
}

function foldCode(c: number): number {
  return c === RIGHT_QUOTE ? APOSTROPHE : c;
}

function isApostrophe(c: number): boolean {
  return c === APOSTROPHE || c === RIGHT_QUOTE;
}

/** True when text[i] continues a Latin word (a letter, or an apostrophe inside a word). */
function isWordAt(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return false;
  const c = text.charCodeAt(i);
  if (isWordCode(c)) return true;
  return isApostrophe(c) && isWordCode(text.charCodeAt(i - 1)) && isWordCode(text.charCodeAt(i + 1));
}

/** isWordAt on the post's code units (`codes`, `length` of them, then a 0). */
function isWordCodeAt(codes: Uint16Array, length: number, i: number): boolean {
  if (i < 0 || i >= length) return false;
  const c = codes[i] as number;
  if (isWordCode(c)) return true;
  return isApostrophe(c) && i > 0 && isWordCode(codes[i - 1] as number) && isWordCode(codes[i + 1] as number);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

function alternation(words: readonly string[]): string {
  const unique = [...new Set(words)].sort((a, b) => b.length - a.length);
  return unique.map(escapeRegExp).join('|');
}

function normalizeWord(word: string): string {
  return normalizeText(word).replaceAll('’', "'");
}

/** Hiragana that may follow a bare ない/なく/なし when it really is a negation (ないです, なくて …). */
const NEGATION_CONTINUATIONS = new Set(
  [...'でよねしけかのっとてはもにわさぞぜやじなだ'].map((c) => c.charCodeAt(0)),
);

/**
 * After a noun with no particle, "ない" may be the start of the next word, especially once katakana
 * is folded to hiragana (便利なインターフェース → 便利ないんたーふぇーす). Accept it only when what
 * follows could end or continue a negated clause.
 */
function isNegationBreak(text: string, k: number): boolean {
  if (k >= text.length) return true;
  const c = text.charCodeAt(k);
  if (c === 0x30fc) return false; // ー: a folded katakana word goes on
  if (!isHiragana(c)) return true;
  if (NEGATION_CONTINUATIONS.has(c)) return true;
  if (c === 0x3093) return '/だでじす'.includes(text.charAt(k + 1)); // ん: ないんだ, ないんです
  return false;
}

function compileEntries(config: ClassifierConfig, extra: ExtraWords): TrieNode {
  const root: TrieNode = { next: undefined, entry: undefined };

  const insert = (key: string, entry: Entry): void => {
    let node = root;
    for (let i = 0; i < key.length; i++) {
      const c = foldCode(key.charCodeAt(i));
      node.next ??= new Map();
      let child = node.next.get(c);
      if (child === undefined) {
        child = { next: undefined, entry: undefined };
        node.next.set(c, child);
      }
      node = child;
    }
    // A team's own word wins over a specialised classifier's, which wins over a built-in one with the
    // same spelling; between equals the stronger one.
    const current = node.entry;
    if (
      current === undefined ||
      entry.rank > current.rank ||
      (entry.rank === current.rank && entry.weight > current.weight)
    ) {
      node.entry = entry;
    }
  };

  const add = (intent: SignalIntent, source: DictionaryWord, rank: number): void => {
    const word = normalizeWord(source.word);
    if (word === '') return;
    const first = word.charCodeAt(0);
    const last = word.charCodeAt(word.length - 1);
    const latinStart = isWordCode(first);
    const boundaryEnd = isWordCode(last);
    const negation: NegationSide = latinStart ? 'before' : isJapaneseLetter(last) ? 'after' : 'none';
    const base = {
      role: 'signal' as const,
      intent,
      word,
      label: source.word,
      weight: source.weight,
      needsNegation: source.needsNegation === true,
      sentenceStart: source.sentenceStart === true,
      clauseStart: source.clauseStart === true,
      boundaryEnd,
      negation,
      rank,
    };
    const keys: string[] = [word];
    if (word.includes("'")) keys.push(word.replaceAll("'", '')); // cant, dont, isnt
    if (word.includes('でき')) keys.push(word.replaceAll('でき', '出来')); // ログイン出来ない
    // Questions are not inflected: 知りたかった ("I wish I had known") asks nothing.
    const inflects =
      negation === 'after' &&
      intent !== 'question' &&
      !base.needsNegation &&
      source.noInflection !== true &&
      word.length >= 2 &&
      last === I_ENDING;
    if (inflects) {
      for (const spelling of [...keys]) {
        const stem = spelling.slice(0, -1);
        for (const ending of INFLECTIONS) keys.push(stem + ending);
      }
    }
    for (const key of new Set(keys)) {
      insert(key, { ...base, adjectival: inflects && key.endsWith('く') });
    }
  };

  /** Notice markers and non-signals: matched as written (no inflection), never negated. */
  const addPlain = (role: EntryRole, source: DictionaryWord, rank = 0): void => {
    const word = normalizeWord(source.word);
    if (word === '') return;
    insert(word, {
      role,
      intent: 'praise', // unused for these roles
      word,
      label: source.word,
      weight: source.weight,
      needsNegation: false,
      sentenceStart: false,
      clauseStart: false,
      boundaryEnd: isWordCode(word.charCodeAt(word.length - 1)),
      negation: 'none',
      adjectival: false,
      rank,
    });
  };

  if (config.useBuiltIn) {
    for (const intent of PRECEDENCE) {
      for (const word of BUILT_IN_DICTIONARIES[intent]) add(intent, word, 0);
    }
    for (const marker of NOTICE_MARKERS) addPlain('notice', marker);
    for (const marker of IRONY_MARKERS) addPlain('irony', marker);
    for (const opener of IRONY_OPENERS) addPlain('opener', opener);
    // Weight 0: any built-in word with the same spelling is stronger and wins.
    for (const word of NON_SIGNALS) addPlain('skip', { word, weight: 0 });
  }
  for (const intent of PRECEDENCE) {
    for (const word of extra[intent] ?? []) add(intent, word, 1);
  }
  for (const word of extra.skip ?? []) addPlain('skip', { word, weight: 0 }, 1);
  for (const intent of PRECEDENCE) {
    for (const word of config[intent]) add(intent, { word, weight: CONFIG_WORD_WEIGHT }, TEAM_RANK);
  }
  return root;
}

/**
 * Words a specialised classifier built on this one adds to the built-in dictionaries (the answer
 * classifier's "直ってない", "that fixed it"). They replace a built-in word of the same spelling; a
 * team's configured word still replaces them. `skip` words only look like signals and are passed over.
 */
export interface ExtraWords {
  readonly praise?: readonly DictionaryWord[];
  readonly complaint?: readonly DictionaryWord[];
  readonly trouble?: readonly DictionaryWord[];
  readonly question?: readonly DictionaryWord[];
  readonly skip?: readonly string[];
}

/**
 * Compiles the dictionaries (built-in, a specialised classifier's extra words, then configured words)
 * once; classify() is then one scan.
 */
export function createClassifier(
  config: ClassifierConfig,
  extra: ExtraWords = {},
  options: ClassifierOptions = {},
): Classifier {
  const trie = new FlatTrie(compileEntries(config, extra));
  const entries = trie.entries;
  const model =
    options.model === undefined ? (config.useBuiltIn ? builtInIntentModel() : null) : options.model;

  const japaneseNegators = [...JAPANESE_NEGATORS];
  const englishNegators = new Set(ENGLISH_NEGATORS);
  /** The team's negators: a word they turn around is the team's evidence too. */
  const teamNegators = new Set<string>();
  for (const negator of config.negators) {
    const word = normalizeWord(negator);
    if (word === '') continue;
    teamNegators.add(word);
    if (isWordCode(word.charCodeAt(0))) englishNegators.add(word);
    else japaneseNegators.push(word);
  }
  // Signals that come from the team's configuration (its words, or a word its negator turned around)
  // steer the model directly (TEAM_WORD_LOGIT); followed only when the team configured something.
  const hasTeamWords =
    teamNegators.size > 0 ||
    config.praise.length + config.complaint.length + config.trouble.length + config.question.length > 0;
  /** Set by the negation tests: the negator they found is one of the team's. */
  let negatorWasTeam = false;
  const abilityNegators = new Set(ABILITY_NEGATORS);
  const troubleNegators = new Set(TROUBLE_NEGATORS);
  const gapWords = new Set(NEGATION_GAP_WORDS);

  // Sticky: tried exactly where a Japanese word ends. Group 1 is the particle, if any.
  const japaneseNegation = new RegExp(
    `(は|も|が|じゃあ|じゃ|では|でわ|でも|とは)?(?:${alternation(japaneseNegators)})`,
    'uy',
  );
  const japaneseTroubleEnding = new RegExp(`(?:${alternation(JAPANESE_TROUBLE_ENDINGS)})`, 'uy');
  // "ひどくない？" "最悪じゃないですか" ask for agreement: the word stands.
  const rhetorical = /(?:です|でしょう|でしょ|だろう|だろ|んじゃ|の)?(?:か|\?)/uy;
  const contrast = /けど|けれど|しかし|ただ、|のに|が、|(?:^|[。、!? ])でも|\bbut\b|\bhowever\b/gu;

  /** End of the Japanese negation right after `end`, or -1. */
  function japaneseNegationEnd(text: string, end: number, adjectival: boolean): number {
    japaneseNegation.lastIndex = end;
    const match = japaneseNegation.exec(text);
    if (match === null) return -1;
    const after = end + match[0].length;
    if (match[1] === undefined && !adjectival && !isNegationBreak(text, after)) return -1;
    // 悪くなくない: a double negation affirms; 不便じゃなくなった ("no longer inconvenient") does not.
    if (match[0].endsWith('なく') && (text.startsWith('ない', after) || text.startsWith('なかった', after))) {
      return -1;
    }
    rhetorical.lastIndex = after;
    if (rhetorical.test(text)) return -1;
    if (teamNegators.size > 0) negatorWasTeam = teamNegators.has(match[0].slice(match[1]?.length ?? 0));
    return after;
  }

  /** Whether an English negator precedes `start`, with at most MAX_GAP_WORDS gap words between. */
  function englishNegated(text: string, start: number, ability: boolean): boolean {
    let j = start - 1;
    for (let words = 0; words <= MAX_GAP_WORDS; words++) {
      while (j >= 0 && text.charCodeAt(j) === 0x20) j--;
      const end = j + 1;
      while (j >= 0 && isWordAt(text, j)) j--;
      if (end === j + 1) return false; // punctuation or start: the clause ends here
      const slice = text.slice(j + 1, end);
      const word = slice.includes('’') ? slice.replaceAll('’', "'") : slice;
      if (ability) {
        if (troubleNegators.has(word) || word.endsWith("n't")) return true;
      } else if (englishNegators.has(word) || (word.endsWith("n't") && !abilityNegators.has(word))) {
        negatorWasTeam = teamNegators.has(word);
        return true;
      }
      if (!gapWords.has(word)) return false;
    }
    return false;
  }

  function isSentenceStart(text: string, start: number, bodyStart: number): boolean {
    let j = start - 1;
    while (j >= 0 && text.charCodeAt(j) === 0x20) j--;
    if (j < bodyStart) return true;
    return '.!?。:;…-\n'.includes(text.charAt(j));
  }

  /** Where the post proper begins, after leading @mentions ("@bank does the app …"). */
  function bodyStartOf(text: string): number {
    const match = /^(?:@[\w.@-]+ ?)+/u.exec(text);
    return match === null ? 0 : match[0].length;
  }

  const candidateEnds: number[] = [];
  /**
   * The post's UTF-16 code units, copied once per post (codes[length] is 0: no word character). The
   * dictionary scan and the constructions' gate scan read every character, some several times, and a
   * typed array is cheaper to read than a string — above all than a substring of a longer one, which
   * V8 keeps as a view into its parent (every read goes through the parent).
   */
  let codes = new Uint16Array(256);
  let teamSignals: Set<IntentSignal> | undefined;
  const candidateEntries: Entry[] = [];

  function classify(text: string): IntentResult {
    teamSignals = hasTeamWords ? new Set() : undefined;
    const signals: IntentSignal[] = [];
    const notices: NoticeMarker[] = [];
    const negationIsTrouble: boolean[] = [];
    const ironyMarkers: IntentSignal[] = [];
    const openers: Array<{ signal: IntentSignal; end: number }> = [];
    const length = text.length;
    if (codes.length <= length) codes = new Uint16Array(length * 2 + 1);
    for (let k = 0; k < length; k++) codes[k] = text.charCodeAt(k);
    codes[length] = 0;
    let bodyStart = -1;
    let i = 0;
    while (i < length) {
      const c = foldCode(codes[i] as number);
      // Inside a Latin word nothing can start: this skip is the start-of-word boundary test for
      // every entry that begins with a Latin letter. The rest of the word's letters are inside it
      // too and are passed over at once, without a trie lookup each (keeps English scans cheap).
      if (isWordCode(c) && isWordCodeAt(codes, length, i - 1)) {
        i++;
        while (isWordCode(codes[i] as number)) i++; // stops at codes[length] = 0 at the latest
        continue;
      }
      const firstNode = trie.child(0, c);
      if (firstNode === NONE) {
        i++;
        continue;
      }
      let count = 0;
      let node = firstNode;
      let j = i + 1;
      while (node !== NONE) {
        const found = entries[node];
        if (found !== undefined) {
          candidateEnds[count] = j;
          candidateEntries[count] = found;
          count++;
        }
        if (j >= length) break;
        node = trie.child(node, foldCode(codes[j] as number));
        j++;
      }
      let next = i + 1;
      // Longest first; a shorter word is tried when the longer one fails its conditions.
      for (let k = count - 1; k >= 0; k--) {
        const end = candidateEnds[k] as number;
        const entry = candidateEntries[k] as Entry;
        if (entry.boundaryEnd && isWordCodeAt(codes, length, end)) continue;
        if (entry.role !== 'signal') {
          if (entry.role === 'notice') notices.push({ word: entry.label, at: i, weight: entry.weight });
          const marker = {
            intent: 'complaint' as const,
            word: entry.label,
            at: i,
            negated: false,
            weight: entry.weight,
          };
          if (entry.role === 'irony') ironyMarkers.push(marker);
          if (entry.role === 'opener') openers.push({ signal: marker, end });
          next = end;
          break;
        }
        if (entry.clauseStart && !isClauseStart(text, i)) continue;
        if (entry.sentenceStart) {
          if (bodyStart < 0) bodyStart = bodyStartOf(text);
          if (!isSentenceStart(text, i, bodyStart)) continue;
          if (text.startsWith(' not ', end)) continue; // "can not sign in" states, it does not ask
        }
        let negated = false;
        let resume = end;
        if (entry.needsNegation) {
          if (entry.negation === 'after') {
            japaneseTroubleEnding.lastIndex = end;
            const match = japaneseTroubleEnding.exec(text);
            if (match === null) continue;
            resume = end + match[0].length;
            if (match[0] === 'ん' && text.charCodeAt(resume) === NO) continue; // できんの？ asks
          } else if (!englishNegated(text, i, true)) {
            continue;
          }
          negated = true;
        } else if (entry.intent !== 'question') {
          negatorWasTeam = false;
          if (entry.negation === 'after') {
            const negationEnd = japaneseNegationEnd(text, end, entry.adjectival);
            if (negationEnd >= 0) {
              negated = true;
              resume = negationEnd; // the negator is not read again as a word (不便じゃなくなった)
            }
          } else if (entry.negation === 'before') {
            negated = englishNegated(text, i, false);
          }
          if (!negated && entry.intent === 'praise' && inScareQuotes(text, i, end)) negated = true;
        }
        let intent = entry.intent;
        if (intent === 'praise' && !negated) {
          // A wish (速いといいな, "hope it's fast") praises nothing yet; 〜といいのに regrets (negated).
          const wish = wishAfter(text, resume, entry, i);
          if (wish === 'wish') {
            next = resume;
            break;
          }
          if (wish === 'regret') negated = true;
        }
        if (intent === 'complaint' && !negated && entry.negation === 'after') {
          // 値上げするの？ / サービス終了するんですか asks whether it will happen.
          futureInquiry.lastIndex = resume;
          if (futureInquiry.test(text)) intent = 'question';
        }
        const signal: IntentSignal = { intent, word: entry.label, at: i, negated, weight: entry.weight };
        signals.push(signal);
        negationIsTrouble.push(entry.needsNegation);
        if (teamSignals !== undefined && (entry.rank === TEAM_RANK || (negated && negatorWasTeam))) {
          teamSignals.add(signal);
        }
        next = resume;
        break;
      }
      i = next;
    }

    addRequests(text, signals, negationIsTrouble);
    addPaidButStill(text, signals, negationIsTrouble);
    addConstructions(text, codes, signals, negationIsTrouble);
    negatePastPraise(text, signals);
    const ironic = applyIrony(text, signals, negationIsTrouble, ironyMarkers, openers);

    if (signals.length > 0) {
      let lastContrast = -1;
      contrast.lastIndex = 0;
      for (let match = contrast.exec(text); match !== null; match = contrast.exec(text)) {
        if (!isPreface(text, match.index) && !endsSentence(text, match.index + match[0].length)) {
          lastContrast = match.index;
        }
      }
      if (lastContrast >= 0) {
        for (const signal of signals) {
          if (signal.at < lastContrast) signal.weight *= BEFORE_CONTRAST;
        }
        if (!ironic) applyImprovement(text, signals, negationIsTrouble);
      }
    }
    return decide(signals, negationIsTrouble, notices, ironic, codes, length, model, teamSignals);
  }

  return { classify };
}

/** Japanese wish endings right after a praise word: 速い|といいな, 便利|になるといいなあ. */
const WISH_AFTER =
  /(?:に|く)?(?:なる|なれ|なった|なって)?(?:と|ば|たら|れば)いい(?:のに|な|ね|けど|んだけど|んですけど|んですが|のですが|です)/uy;
/** English words that make what follows in the sentence a hope: "hope it's fast". */
const HOPE_BEFORE = /\b(?:hope|hoping|hopefully|fingers crossed|wish)\b/u;

/** Whether a praise word is only wished for ('wish'), wished for with regret ('regret'), or neither. */
function wishAfter(text: string, end: number, entry: Entry, start: number): 'wish' | 'regret' | null {
  if (entry.negation === 'after') {
    WISH_AFTER.lastIndex = end;
    const match = WISH_AFTER.exec(text);
    if (match === null) return null;
    return match[0].endsWith('のに') ? 'regret' : 'wish';
  }
  if (entry.negation === 'before') {
    const sentence = text.slice(sentenceStartBefore(text, start), start);
    return HOPE_BEFORE.test(sentence) ? 'wish' : null;
  }
  return null;
}

const SENTENCE_END = '.!?。！？\n';

function sentenceStartBefore(text: string, at: number): number {
  for (let j = at - 1; j >= 0; j--) if (SENTENCE_END.includes(text.charAt(j))) return j + 1;
  return 0;
}

function sentenceEndAfter(text: string, at: number): number {
  for (let j = at; j < text.length; j++) if (SENTENCE_END.includes(text.charAt(j))) return j;
  return text.length;
}

/** After a complaint noun: "will it happen?" (値上げするの？, サービス終了するんですか). */
const futureInquiry =
  /(?:する|します|される|されます|になる|になります|なる|なります)(?:(?:んです|のです|んでしょう|のでしょう)か|(?:の|か)?\s?[?？])/uy;

/** Before なんで ("why"): the start, punctuation, a space or a topic particle; not 便利な|んで. */
function isClauseStart(text: string, at: number): boolean {
  if (at === 0) return true;
  return ' 、。,.!?！？…\n「『(（はもがて'.includes(text.charAt(at - 1));
}

/**
 * Japanese polite requests (〜していただけると嬉しい, 〜してもらえると助かります) ask for a change:
 * guidance. The praise words of the request's sentence (分かりやすく, 嬉しい) describe the wish and
 * are dropped.
 */
const JA_REQUEST = /(?:て|で)(?:いただけ|もらえ|くれ)(?:ると|れば|たら)/gu;

function addRequests(text: string, signals: IntentSignal[], negationIsTrouble: boolean[]): void {
  if (!text.includes('いただけ') && !text.includes('もらえ') && !text.includes('くれ')) return;
  JA_REQUEST.lastIndex = 0;
  for (let match = JA_REQUEST.exec(text); match !== null; match = JA_REQUEST.exec(text)) {
    const from = sentenceStartBefore(text, match.index);
    const to = sentenceEndAfter(text, match.index);
    for (let k = signals.length - 1; k >= 0; k--) {
      const signal = signals[k] as IntentSignal;
      if (signal.intent === 'praise' && signal.at >= from && signal.at < to) {
        signals.splice(k, 1);
        negationIsTrouble.splice(k, 1);
      }
    }
    insertSignal(signals, negationIsTrouble, {
      intent: 'question',
      word: `〜${match[0]}`,
      at: match.index,
      negated: false,
      weight: 2,
    });
  }
}

/**
 * Paid, and still not there: "paid for premium but it still shows the free plan", "balance still 0",
 * 引き落とされてるのに残高が0円のまま, ちゃーじしたけど反映されない (text is normalised: kana folded).
 */
const PAID_BUT_STILL: ReadonlyArray<readonly [RegExp, string, (text: string) => boolean]> = [
  [
    /\b(?:paid|bought|purchased|subscribed|upgraded|charged|topped up)\b[^.!?]*\b(?:but|and)\b[^.!?]*\bstill\b/u,
    'paid … still',
    (text) => text.includes('still'),
  ],
  [
    /\b(?:balance|credit|points?)\b[^.!?]{0,20}\b(?:still|shows?|showing|says|is)\s+(?:0|zero)\b/u,
    'balance … 0',
    (text) => text.includes('0') || text.includes('zero'),
  ],
  [
    /(?:課金|購入|支払|払っ|払い|買っ|決済|ちゃーじ|引き落とされ|入金)[^。！？!?]*?(?:のに|けど|が、)[^。！？!?]*?(?:のまま|てない|ていない|されない|されません|ません)/u,
    '払ったのに…まま',
    (text) => text.includes('のに') || text.includes('けど') || text.includes('が、'),
  ],
];

function addPaidButStill(text: string, signals: IntentSignal[], negationIsTrouble: boolean[]): void {
  // Each pattern runs only when its cheapest required piece is there (the classifier's hot path).
  for (const [pattern, word, possible] of PAID_BUT_STILL) {
    if (!possible(text)) continue;
    const match = pattern.exec(text);
    if (match === null) continue;
    insertSignal(signals, negationIsTrouble, {
      intent: 'trouble',
      word,
      at: match.index,
      negated: false,
      weight: 2,
    });
    return;
  }
}

/**
 * Every construction's gates in one trie: a node where a gate ends holds the bit mask of the
 * constructions it opens. The scan walks the trie only where a gate's first two characters stand
 * (GATE_PAIRS, hashed: a collision only costs a walk); one-character gates (GATE_SINGLES, few) are
 * looked for with includes (no table read per character).
 */
const GATES: FlatTrie<number> = (() => {
  const root: MapTrieNode<number> = { next: undefined, entry: undefined };
  for (const [index, construction] of CONSTRUCTIONS.entries()) {
    for (const gate of construction.gate) {
      let node = root;
      for (let i = 0; i < gate.length; i++) {
        node.next ??= new Map();
        const code = gate.charCodeAt(i);
        let child = node.next.get(code);
        if (child === undefined) {
          child = { next: undefined, entry: undefined };
          node.next.set(code, child);
        }
        node = child;
      }
      node.entry = (node.entry ?? 0) | (1 << index);
    }
  }
  return new FlatTrie(root);
})();
const GATE_MASKS = Int32Array.from(GATES.entries, (mask) => mask ?? 0);
/** The one-character gates and the constructions each opens. */
const GATE_SINGLES: Array<{ readonly gate: string; readonly mask: number }> = [];
const GATE_PAIRS = new Uint8Array(0x10000);

function gatePair(first: number, second: number): number {
  return (Math.imul(first, 31) + second) & 0xffff;
}

for (const gate of CONSTRUCTIONS.flatMap((construction) => construction.gate)) {
  const first = gate.charCodeAt(0);
  if (gate.length > 1) GATE_PAIRS[gatePair(first, gate.charCodeAt(1))] = 1;
  else if (!GATE_SINGLES.some((single) => single.gate === gate))
    GATE_SINGLES.push({ gate, mask: GATE_MASKS[GATES.child(0, first)] as number });
}

if (CONSTRUCTIONS.length > 31)
  throw new Error('constructions.ts: at most 31 constructions (a bit mask holds them)');

/**
 * The grammar-level constructions (see constructions.ts): each adds one signal at its first match.
 * A rhetorical one turns the question signals of its sentence off (何回目? asks nothing); a policy
 * one ("店舗に行かないとできない") turns off the trouble words it spans.
 */
function addConstructions(
  text: string,
  codes: Uint16Array,
  signals: IntentSignal[],
  negationIsTrouble: boolean[],
): void {
  // One scan finds every gate at every position (most posts hold none; gates may overlap).
  let open = 0;
  for (const single of GATE_SINGLES) if (text.includes(single.gate)) open |= single.mask;
  const length = text.length;
  let c = codes[0] as number;
  for (let i = 0; i < length; i++) {
    const next = codes[i + 1] as number; // 0 past the end
    if (GATE_PAIRS[gatePair(c, next)] === 1) {
      for (let node = GATES.child(0, c), j = i + 1; node !== NONE && j < length; j++) {
        node = GATES.child(node, codes[j] as number);
        if (node !== NONE) open |= GATE_MASKS[node] as number;
      }
    }
    c = next;
  }
  if (open === 0) return;
  for (let index = 0; index < CONSTRUCTIONS.length; index++) {
    if ((open & (1 << index)) === 0) continue;
    const construction = CONSTRUCTIONS[index] as Construction;
    const match = construction.pattern.exec(text);
    if (match === null) continue;
    const end = match.index + match[0].length;
    if (construction.rhetorical === true || construction.policy === true) {
      const from = construction.policy === true ? match.index : sentenceStartBefore(text, match.index);
      const to = construction.policy === true ? end : sentenceEndAfter(text, end) + 1;
      const drop: SignalIntent = construction.policy === true ? 'trouble' : 'question';
      for (let k = signals.length - 1; k >= 0; k--) {
        const signal = signals[k] as IntentSignal;
        if (signal.intent === drop && signal.at >= from && signal.at < to) {
          signals.splice(k, 1);
          negationIsTrouble.splice(k, 1);
        }
      }
    }
    // Placed where the construction's point is made (のに itself), so a contrast does not weaken it.
    const at = construction.label.includes('のに') ? text.indexOf('のに', match.index) : match.index;
    insertSignal(signals, negationIsTrouble, {
      intent: construction.intent,
      word: construction.label,
      at,
      negated: false,
      weight: construction.weight,
    });
  }
}

/** "it used to be great": the praise of that clause is about the past (see PAST_PRAISE). */
function negatePastPraise(text: string, signals: IntentSignal[]): void {
  if (!text.includes('used to')) return;
  const match = PAST_PRAISE.exec(text);
  if (match === null) return;
  const end = match.index + match[0].length;
  const but = text.indexOf(' but ', match.index);
  const to = but >= 0 && but < end ? but : end;
  for (const signal of signals) {
    if (signal.intent === 'praise' && signal.at >= match.index && signal.at < to) signal.negated = true;
  }
}

/**
 * 前は微妙だったけど今は…: the complaint and trouble words before the contrast describe the past.
 * They count negated (as faint praise), and the change itself is praise.
 */
function applyImprovement(text: string, signals: IntentSignal[], negationIsTrouble: boolean[]): void {
  if (!IMPROVED_GATE.some((piece) => text.includes(piece))) return;
  for (const pattern of IMPROVED) {
    const match = pattern.exec(text);
    if (match === null) continue;
    const end = match.index + match[0].length;
    let past = false;
    for (const [k, signal] of signals.entries()) {
      if (signal.at < match.index || signal.at >= end || signal.negated) continue;
      if (signal.intent !== 'complaint' && !(signal.intent === 'trouble' && negationIsTrouble[k] !== true))
        continue;
      signal.negated = true;
      past = true;
    }
    if (!past) continue;
    insertSignal(signals, negationIsTrouble, {
      intent: 'praise',
      word: '前は…けど今は',
      at: end,
      negated: false,
      weight: 1,
    });
    return;
  }
}

/**
 * Irony: a marker ((皮肉), (棒), /s) anywhere, or an opener ("love how") followed by trouble or a
 * complaint in its sentence. Praise then counts as negated and the marker as a complaint; the post
 * is venting, so guidance-first does not apply (see decide).
 */
function applyIrony(
  text: string,
  signals: IntentSignal[],
  negationIsTrouble: boolean[],
  markers: readonly IntentSignal[],
  openers: ReadonlyArray<{ signal: IntentSignal; end: number }>,
): boolean {
  if (markers.length === 0 && openers.length === 0) return false; // most posts: nothing to copy
  const found = [...markers];
  for (const opener of openers) {
    const to = sentenceEndAfter(text, opener.end);
    const failure = signals.some(
      (s) => s.at >= opener.end && s.at < to && (s.intent === 'trouble' || s.intent === 'complaint'),
    );
    if (failure) found.push(opener.signal);
  }
  if (found.length === 0) return false;
  for (const signal of signals) if (signal.intent === 'praise') signal.negated = true;
  for (const marker of found) insertSignal(signals, negationIsTrouble, marker);
  return true;
}

/** Inserts a signal in text order, keeping the parallel negationIsTrouble list aligned. */
function insertSignal(signals: IntentSignal[], negationIsTrouble: boolean[], signal: IntentSignal): void {
  let at = signals.length;
  while (at > 0 && (signals[at - 1] as IntentSignal).at > signal.at) at--;
  signals.splice(at, 0, signal);
  negationIsTrouble.splice(at, 0, false);
}

/** The single word at [start, end) stands alone between double quotes: 'the "improved" layout'. */
function inScareQuotes(text: string, start: number, end: number): boolean {
  if (!QUOTES.has(text.charCodeAt(start - 1)) || !QUOTES.has(text.charCodeAt(end))) return false;
  return text.lastIndexOf(' ', end - 1) < start;
}

/** The extra evidence the notice markers demand: each distinct marker counts once. */
function noticeWeight(notices: readonly NoticeMarker[]): number {
  let total = 0;
  outer: for (let k = 0; k < notices.length; k++) {
    const marker = notices[k] as NoticeMarker;
    for (let m = 0; m < k; m++) {
      if ((notices[m] as NoticeMarker).word === marker.word) continue outer;
    }
    total += marker.weight;
  }
  return total;
}

/**
 * 〜んですが / 〜のだけど introduce what follows ("ログインできないんですが、どうすれば…") rather than
 * contrast with it: the explanatory ん/の before が or けど marks a preface.
 */
function isPreface(text: string, at: number): boolean {
  const before = text.slice(Math.max(0, at - 3), at);
  return /[んの](?:です|だ)?$/u.test(before);
}

/**
 * A contrast marker that ends its sentence (止まったまま。容量は空いてるのに) adds an afterthought;
 * nothing follows it to carry the point, so the words before it keep their weight.
 */
function endsSentence(text: string, at: number): boolean {
  let k = at;
  while (k < text.length && (text.charAt(k) === ' ' || text.charAt(k) === '…')) k++;
  return k >= text.length || SENTENCE_END.includes(text.charAt(k));
}

/** Which intent a signal counts for, and how much. */
function contribution(signal: IntentSignal, negationIsTrouble: boolean): [SignalIntent, number] {
  if (!signal.negated || signal.intent === 'question') return [signal.intent, signal.weight];
  switch (signal.intent) {
    case 'praise':
      return ['complaint', signal.weight * NEGATED_PRAISE_AS_COMPLAINT];
    case 'complaint':
      return ['praise', signal.weight * NEGATED_COMPLAINT_AS_PRAISE];
    case 'trouble':
      // "can't log in" is the trouble; "no problems" is faintly positive.
      return negationIsTrouble
        ? ['trouble', signal.weight]
        : ['praise', signal.weight * NEGATED_TROUBLE_AS_PRAISE];
  }
}

function sameWord(a: IntentSignal, b: IntentSignal): boolean {
  return a.intent === b.intent && a.word === b.word && a.negated === b.negated;
}

function decide(
  signals: IntentSignal[],
  negationIsTrouble: readonly boolean[],
  notices: NoticeMarker[],
  ironic: boolean,
  codes: Uint16Array,
  length: number,
  model: IntentModel | null,
  teamSignals: ReadonlySet<IntentSignal> | undefined,
): IntentResult {
  const scores: Record<SignalIntent, number> = { praise: 0, complaint: 0, trouble: 0, question: 0 };
  const team: Record<SignalIntent, number> = { praise: 0, complaint: 0, trouble: 0, question: 0 };
  let teamEvidence = false;
  // Repeating a word is not more evidence: each (word, negated) pair counts once, at its strongest.
  // Most posts hold a handful of signals, where the quadratic look-around is cheaper than a Map.
  const distinct: Array<{ signal: IntentSignal; intent: SignalIntent; amount: number }> = [];
  outer: for (let k = 0; k < signals.length; k++) {
    const signal = signals[k] as IntentSignal;
    for (let m = 0; m < k; m++) {
      if (sameWord(signal, signals[m] as IntentSignal)) continue outer;
    }
    const [intent, first] = contribution(signal, negationIsTrouble[k] === true);
    let amount = first;
    for (let m = k + 1; m < signals.length; m++) {
      const other = signals[m] as IntentSignal;
      if (!sameWord(signal, other)) continue;
      amount = Math.max(amount, contribution(other, negationIsTrouble[m] === true)[1]);
    }
    scores[intent] += amount;
    if (teamSignals?.has(signal) === true) {
      team[intent] += amount;
      teamEvidence = true;
    }
    distinct.push({ signal, intent, amount });
  }

  let top: SignalIntent = 'trouble';
  for (const intent of PRECEDENCE) {
    if (scores[intent] > scores[top] + 1e-9) top = intent;
  }
  let intent: Intent;
  const noticed = notices.length === 0 ? 0 : noticeWeight(notices);
  if (scores[top] < MIN_EVIDENCE + noticed - 1e-9) intent = 'neutral';
  else if (!ironic && scores.trouble >= TROUBLE_FLOOR && scores.trouble * 2 >= scores[top])
    intent = 'trouble';
  else intent = top;
  if (model === null) {
    return {
      intent,
      category: categoryForIntent(intent),
      signals: reported(distinct, intent),
      scores,
      notices: distinctNotices(notices),
    };
  }
  const verdict = model.predictCodes(
    codes,
    length,
    { scores, intent, noticeWeight: noticed },
    teamEvidence ? team : undefined,
  );
  return {
    intent: verdict.intent,
    category: categoryForIntent(verdict.intent),
    signals: reported(distinct, verdict.intent),
    scores,
    notices: distinctNotices(notices),
    model: {
      intent: verdict.intent,
      probability: Math.round(verdict.probability * 1000) / 1000,
      dictionary: intent,
    },
  };
}

/** The signals shown to people: each word once; past MAX_SIGNALS the ones behind the verdict, strongest first. */
function reported(
  distinct: ReadonlyArray<{ signal: IntentSignal; intent: SignalIntent; amount: number }>,
  verdict: Intent,
): IntentSignal[] {
  if (distinct.length <= MAX_SIGNALS) return distinct.map((d) => d.signal);
  return [...distinct]
    .sort((a, b) => Number(b.intent === verdict) - Number(a.intent === verdict) || b.amount - a.amount)
    .slice(0, MAX_SIGNALS)
    .map((d) => d.signal)
    .sort((a, b) => a.at - b.at);
}

function distinctNotices(notices: readonly NoticeMarker[]): NoticeMarker[] {
  if (notices.length === 0) return []; // most posts: no Set to make
  const seen = new Set<string>();
  const out: NoticeMarker[] = [];
  for (const notice of notices) {
    if (seen.has(notice.word)) continue;
    seen.add(notice.word);
    out.push(notice);
    if (out.length === MAX_SIGNALS) break;
  }
  return out;
}

/** The reply category for an intent: praise → thanks, complaint → apology, trouble and question → guidance. */
export function categoryForIntent(intent: Intent): ReplyCategory | null {
  switch (intent) {
    case 'praise':
      return 'thanks';
    case 'complaint':
      return 'apology';
    case 'trouble':
    case 'question':
      return 'guidance';
    case 'neutral':
      return null;
  }
}
