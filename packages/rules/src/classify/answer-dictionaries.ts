/**
 * Words of customers answering a brand's reply, added to the intent classifier's built-in
 * dictionaries by the answer classifier (answers.ts). Same conventions as dictionaries.ts: written
 * the way people type them, normalised when compiled, weights 2 = unambiguous … 0.5 = a hint. They
 * count for the intent classifier's intents, which the answer classifier reads as:
 * praise → thanks, complaint and trouble → unhappy, question → question.
 *
 * Only what answers say that first posts rarely do: a problem reported fixed or still there, an
 * acknowledgement (承知しました, got it), a reply read as boilerplate, a follow-up question opener.
 * Keep entries general; nothing here names a product.
 */
import type { ExtraWords } from './classify.ts';
import type { DictionaryWord } from './dictionaries.ts';

type Flags = Omit<DictionaryWord, 'word' | 'weight'>;

function w(weight: number, list: readonly string[], flags: Flags = {}): DictionaryWord[] {
  return list.map((word) => ({ word, weight, ...flags }));
}

/** It works now, it arrived, I understood: the case can rest. */
const THANKS: readonly DictionaryWord[] = [
  ...w(2, [
    '解決しました',
    '解決です',
    '解決済み',
    '解決できました',
    '直りました',
    '治りました',
    '直った',
    '治った',
    '直ってました',
    '治ってました',
    '復旧しました',
    '復旧してました',
    'できました',
    '出来ました',
    'いけました',
    '届きました',
    '反映されました',
    '反映されてました',
    '表示されました',
    '戻りました',
    'おかげさまで',
    'お陰様で',
    'that fixed it',
    'fixed it',
    'that worked',
    'it worked',
    'worked!',
    'works now',
    'working now',
    'did the trick',
    'that did it',
    'all sorted',
    'issue resolved',
    'problem solved',
    'much appreciated',
    'lifesaver',
    'life saver',
  ]),
  ...w(1.5, [
    '承知しました',
    '承知いたしました',
    '承知です',
    '了解しました',
    '了解いたしました',
    '了解です',
    'りょうかいです',
    'かしこまりました',
    'わかりました',
    '分かりました',
    '把握しました',
    'なるほど',
    '安心しました',
    'お手数おかけしました',
    'お手数をおかけしました',
    'お騒がせしました',
    'もう大丈夫',
    '感謝',
    'got it',
    'understood',
    'noted',
    'makes sense',
    'appreciate',
    'appreciated',
    'resolved',
    'solved',
    'sorted',
    'all good',
    'cheers',
    'ty',
    'thx',
    'tysm',
    'tyvm',
    'fixed',
    'clears it up',
    'thanks again',
    '🙏',
    '🙇',
  ]),
  ...w(1, [
    '了解',
    'りょ',
    '試してみます',
    'やってみます',
    '様子見',
    '様子を見',
    '待ってます',
    '待ちます',
    '確認しました',
    'ご丁寧に',
    'will do',
    'will try',
    "i'll try",
    'perfect',
    'legend',
    'okay',
    'ok',
    '👍',
  ]),
];

/**
 * Still broken, not what I asked, a form letter, I give up. Negated verbs (直ってない, 解決しない,
 * didn't help) are trouble words that need their negation, like "can't log in".
 */
const UNHAPPY_TROUBLE: readonly DictionaryWord[] = [
  ...w(
    2,
    [
      '直って',
      '治って',
      '直ら',
      '治ら',
      '直り',
      '治り',
      '解決し',
      '解決して',
      '解決され',
      '改善し',
      '改善され',
      '変わら',
      '変わり',
      '納得でき',
      '納得し',
      '復旧して',
      '反映されて',
      'help',
      'helped',
      'work',
      'worked',
    ],
    { needsNegation: true },
  ),
];

const UNHAPPY_COMPLAINT: readonly DictionaryWord[] = [
  ...w(2, [
    'ダメでした',
    'だめでした',
    'ダメだった',
    'だめだった',
    '無理でした',
    '効果なし',
    '相変わらず',
    '同じ状態',
    '同じ症状',
    '同じエラー',
    '同じ画面',
    'テンプレ',
    '定型文',
    'コピペ',
    '答えになって',
    '聞いてるのは',
    '聞いているのは',
    'そこじゃない',
    'そういうことじゃない',
    'いつ直る',
    'いつ治る',
    'いつになったら',
    'もういいです',
    'もういい',
    '二度と',
    '謝罪だけ',
    '謝られても',
    'still broken',
    'still crashing',
    'still crashes',
    'still happening',
    'still the same',
    'same error',
    'same problem',
    'same issue',
    'same thing',
    'issue persists',
    'problem persists',
    'persists',
    'canned',
    'copy paste',
    'copy-paste',
    'copy and paste',
    'form letter',
    'not what i asked',
    'even read',
    'be fixed',
    'actually fix',
    "i'm done",
    'im done',
    'uninstalling',
    'unbelievable',
    'oh great',
    'thanks for nothing',
    '😡',
    '🤬',
    '💢',
  ]),
  ...w(1.5, [
    '既にやりました',
    'もうやりました',
    '全部やりました',
    '試しましたが',
    '試したけど',
    'やったけど',
    'しましたが',
    'したけど',
    'したのですが',
    'したんですが',
    'はいはい',
    '結局',
    'いつもの',
    '解約します',
    'already tried',
    'tried that',
    'tried everything',
    'keep saying',
    'you keep',
    'nobody',
    'no one',
    'still waiting',
    'still no',
    'third time',
    'second time',
    'cancelling',
    'canceling',
    'switching to',
    '🙄',
    '😤',
  ]),
  ...w(2, ['で?', 'は?'], { sentenceStart: true }),
  ...w(1.5, ['nope', 'nah'], { sentenceStart: true }),
  ...w(1, ['i guess', 'orz', 'まだ']),
  // "still" alone is a hint; "still broken", "still no refund" carry it.
  ...w(0.8, ['still']),
];

/** A follow-up question opens with these (ちなみに, one more thing). */
const QUESTION: readonly DictionaryWord[] = [
  ...w(1.5, [
    'ちなみに',
    'もう一つ',
    'もうひとつ',
    'もう1つ',
    'one more thing',
    'one more question',
    'quick q',
  ]),
  ...w(1, ['also,', 'what if', 'what about', 'what happens', 'what should', 'which one']),
  // After our reply, a question mark mostly asks the next thing (a first post's "?" is weaker, 0.6).
  ...w(1, ['?']),
];

/**
 * A follow-up question often supposes the customer leaves ("解約した場合、データは…?"): asked in a
 * conditional, cancelling is not a threat to leave.
 */
const SKIP: readonly string[] = [
  ...['解約', '退会', '機種変更', '機種変'].flatMap((verb) =>
    ['した場合', 'する場合', 'したら', 'すると'].map((ending) => verb + ending),
  ),
];

/** The answer classifier's additions to the intent dictionaries. */
export const ANSWER_WORDS: ExtraWords = {
  skip: SKIP,
  praise: THANKS,
  complaint: UNHAPPY_COMPLAINT,
  trouble: UNHAPPY_TROUBLE,
  question: QUESTION,
};
