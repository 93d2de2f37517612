/**
 * Grammar-level constructions of the intent classifier (issue 13, round 4): phrasings that carry an
 * intent with no evaluative word in them, found by regular expressions over the normalised text
 * (lower case, katakana folded to hiragana, ？ → ?) after the dictionary scan.
 *
 * Each construction names general grammar, never a product: 何回目? and "again." (it happened
 * before), 前は…のに (it used to be better), 〜ないとできない (a policy, tie-break 7 of LABELLING.md),
 * "says there's no booking" (something went wrong). Each one adds at most one signal per post.
 */
import type { SignalIntent } from './dictionaries.ts';

/** One construction: a pattern, the intent it signals and how strongly. */
export interface Construction {
  /** Shown in the signals, e.g. "何回目?". */
  readonly label: string;
  readonly intent: SignalIntent;
  readonly weight: number;
  /** Tried on the normalised text; not global (the first match counts). */
  readonly pattern: RegExp;
  /** The pattern can only match when the text holds one of these (keeps the hot path cheap). */
  readonly gate: readonly string[];
  /**
   * The construction asks nothing: the question words and "?" of its sentence carry criticism
   * (tie-break 3) and no longer count as a question.
   */
  readonly rhetorical?: boolean;
  /**
   * "できない" inside the match is a rule the author objects to, not something broken (tie-break 7):
   * the trouble words inside the match no longer count.
   */
  readonly policy?: boolean;
}

/** Japanese text up to the end of a clause (no sentence or clause punctuation). */
const CLAUSE = '[^。、!?\\n]';

export const CONSTRUCTIONS: readonly Construction[] = [
  // ——— complaint: it happened before, and again ———
  {
    label: '何回目?',
    intent: 'complaint',
    weight: 1.5,
    pattern: /何(?:回|度)目/u,
    gate: ['回目', '度目'],
    rhetorical: true,
  },
  {
    label: 'また…?',
    intent: 'complaint',
    weight: 1.2,
    // また値上げ? / また遅延? — not また行けますか? or またね?
    pattern: new RegExp(`(?:^|[、。 ])また(?!ね)${CLAUSE}{1,12}?(?<!か|ます|です|でき|よね|の)\\?`, 'u'),
    gate: ['また'],
    rhetorical: true,
  },
  {
    label: 'again.',
    intent: 'complaint',
    weight: 1.2,
    // A sentence that is only "again.", or "… again?" that does not open as a question or request
    // ("could you send it again?"); not "will buy again".
    pattern:
      /(?:^|[.!?…] ?)(?:again\b ?[.?!…]*(?: |$)|(?!(?:could|can|would|will|do|does|did|is|are|am|how|what|when|where|who|why|should|may|any)\b)[^.!?]*\bagain ?\?)/u,
    gate: ['again'],
    rhetorical: true,
  },
  {
    label: '何日も',
    intent: 'complaint',
    weight: 1,
    pattern: /何(?:日|週間|ゖ月|か月|ヵ月|年|時間|回|度)も/u,
    gate: ['何日', '何週', '何ゖ月', '何か月', '何ヵ月', '何年', '何時間', '何回', '何度'],
  },
  {
    label: 'for weeks',
    intent: 'complaint',
    weight: 0.8,
    pattern: /\bfor (?:weeks|months|ages)\b/u,
    gate: ['for weeks', 'for months', 'for ages'],
  },
  {
    label: 'yet again',
    intent: 'complaint',
    weight: 1.2,
    pattern: /\b(?:yet again|once again|again and again|every single time)\b/u,
    gate: ['again', 'every single'],
  },
  // ——— complaint: rhetorical questions ———
  {
    label: 'ってこと?',
    intent: 'complaint',
    weight: 1.5,
    pattern: /ってこと(?:\?|かよ|ですか\?)/u,
    gate: ['ってこと'],
    rhetorical: true,
  },
  {
    label: 'なんなの',
    intent: 'complaint',
    weight: 1.5,
    pattern: /(?:なん|何)なの(?:\?|!|。|$|、| )|(?:なん|何)なん(?:\?|!|。|$|、| |だよ)/u,
    gate: ['なんなの', '何なの', 'なんなん', '何なん'],
    rhetorical: true,
  },
  {
    label: 'why … keep/still/have to',
    intent: 'complaint',
    weight: 1.5,
    pattern:
      /\bwhy (?:does|do|is|are|did|would|can't|won't|doesn't|isn't|must)\b[^.!?]*\b(?:keeps?|still|always|again|have to|has to|need to|only)\b/u,
    gate: ['why '],
    rhetorical: true,
  },
  {
    label: 'how hard is it to',
    intent: 'complaint',
    weight: 1.5,
    pattern:
      /\bhow (?:hard|difficult) (?:is|can) it\b|\bhow is (?:this|that|it) (?:ok|okay|acceptable|allowed|legal|fair)\b|\bis it too much to ask\b|\bseriously ?\?/u,
    gate: ['how hard', 'how difficult', 'how is', 'too much', 'seriously'],
    rhetorical: true,
  },
  {
    label: '〜すらない',
    intent: 'complaint',
    weight: 1.2,
    pattern: new RegExp(`(?:すら|さえ)${CLAUSE}{0,6}?(?:ない|無い|なかった|ません)`, 'u'),
    gate: ['すら', 'さえ'],
  },
  // ——— complaint: it used to be better; it got smaller ———
  // ——— complaint, round 5: a cost, a limit, a change for the worse, said without an evaluative word ———
  {
    // Something that was free now costs, or a charge out of proportion: 有料になってた, 100円取られる,
    // "now charging for", "made seat selection paid", "wants $2 a month", "charged me $30 just to".
    label: 'now paid',
    intent: 'complaint',
    weight: 1.2,
    pattern:
      /有料(?:に|化)(?:なっ|され|し)(?!ます?か|ても)|(?:円|ドル|料金|手数料|お金)(?:も|を)?取られ|\b(?:now|started|start|starts) charging\b|\bcharg(?:es|ing) (?:extra|for)\b|\bmade [^.!?]{1,30} paid\b|\bwants? [$¥€£]\d|\bcharged (?:me|us) [$¥€£]?\d[^.!?]{0,30}\bjust to\b/u,
    gate: ['有料', '取られ', 'charg', 'paid', 'want'],
  },
  {
    // Only so much and no more: 1台しか開いてない, 「…」しか言わない (not 行くしかない, "no choice but").
    label: '〜しか…ない',
    intent: 'complaint',
    weight: 1,
    pattern: new RegExp(`しか(?!な)${CLAUSE}{1,10}?(?:ない|無い|ません|なかった|ねー)`, 'u'),
    gate: ['しか'],
  },
  {
    // It is always so: いつ電話しても話し中, "busy no matter when you call".
    label: 'いつ…ても',
    intent: 'complaint',
    weight: 1,
    pattern: new RegExp(
      `いつ(?!でも|も)${CLAUSE}{1,8}?(?:ても|でも)|\\bno matter (?:when|what|how|which|who)\\b`,
      'u',
    ),
    gate: ['いつ', 'no matter'],
  },
  {
    // Too many times or too long for a small thing: 5回も, "asks five times just to", "an hour just to".
    label: 'N回も',
    intent: 'complaint',
    weight: 1,
    pattern:
      /(?:\d+|[二三四五六七八九十])(?:回|度)も|\b(?:\d+|three|four|five|six|seven|eight|nine|ten) (?:times|minutes|hours|days|weeks) just to\b/u,
    gate: ['回も', '度も', 'just to'],
  },
  {
    // A change for the worse: 厳しくなってる, 高くなった, 半分になった, "got stricter", "halved".
    label: '厳しくなった',
    intent: 'complaint',
    weight: 1,
    pattern:
      /(?:厳し|高|遅|面倒|不便|複雑)(?:く|に)なっ|半分に(?:なっ|され)|\b(?:got|gotten|getting|became|becoming|is getting) (?:stricter|pricier|slower|more expensive|harder|more complicated)\b|\bhalved\b/u,
    gate: ['くなっ', 'になっ', 'され', 'got', 'getting', 'became', 'becoming', 'halved'],
  },
  {
    // Nobody benefits: 誰得, 誰が得するの, "who is this even for", "who asked for this".
    label: '誰得',
    intent: 'complaint',
    weight: 1.5,
    pattern: /誰(?:が|の)?得|\bwho (?:is|are|was|were) [^.!?]{1,40}\beven for\b|\bwho asked for\b/u,
    gate: ['誰', 'who'],
    rhetorical: true,
  },
  {
    // We were not told, or it used to cost nothing: 3000円かかるって聞いてない, 無料だったよね, "it was free".
    label: '聞いてない',
    intent: 'complaint',
    weight: 1.2,
    pattern:
      /(?:って|とは|なんて)(?:聞いて|言われて)(?:ない|ません|なかった)|(?:無料|(?<![\d,])0円)(?:だった|でした)|\b(?:was|used to be) free\b|\bnobody told (?:me|us)\b/u,
    gate: ['聞いて', '言われて', '無料', '0円', 'free', 'nobody told'],
  },
  {
    label: '前は…のに',
    intent: 'complaint',
    weight: 1.2,
    pattern: /(?:前|昔|以前|最初|当初)は[^。!?]*?のに/u,
    gate: ['のに'],
  },
  {
    label: '〜たのに',
    intent: 'complaint',
    weight: 0.8,
    pattern: /(?:た|だ|る|い|な)のに(?!ね)/u,
    gate: ['のに'],
  },
  {
    label: 'used to … now',
    intent: 'complaint',
    weight: 1,
    pattern: /\bused to\b[^.!?]*\bnow\b/u,
    gate: ['used to'],
  },
  {
    label: '小さくなった',
    intent: 'complaint',
    weight: 1,
    pattern: /(?:小さ|少な|短|薄|狭|細)くなっ/u,
    gate: ['くなっ'],
  },
  {
    label: 'got smaller',
    intent: 'complaint',
    weight: 1,
    pattern: /\b(?:got|gotten|getting|are|is) (?:smaller|shorter|thinner|tinier)\b|\bshr[au]nk\b/u,
    gate: ['smaller', 'shorter', 'thinner', 'tinier', 'shr'],
  },
  // ——— complaint: canned answers ———
  {
    label: 'the same reply',
    intent: 'complaint',
    weight: 1.2,
    pattern:
      /\bthe same (?:reply|answer|response|message|template|script)\b|\bno matter what (?:you|i|we) (?:ask|say|do)\b/u,
    gate: ['same', 'no matter'],
  },
  {
    label: '同じ返信',
    intent: 'complaint',
    weight: 1.2,
    pattern: /同じ(?:返事|返信|回答|文章|文面)/u,
    gate: ['同じ'],
  },
  // ——— complaint: a policy phrased as "can't" (tie-break 7) ———
  {
    label: '〜ないとできない',
    intent: 'complaint',
    weight: 1.5,
    pattern: new RegExp(
      `(?:ないと|なきゃ|なければ|しか)${CLAUSE}{0,8}?(?:でき|出来|使え|見れ|見られ|選べ|買え)(?:ない|ません|なく)`,
      'u',
    ),
    gate: ['ないと', 'なきゃ', 'なければ', 'しか'],
    policy: true,
  },
  // ——— trouble: something went wrong ———
  {
    label: 'says there is no …',
    intent: 'trouble',
    weight: 1.5,
    pattern:
      /\b(?:says|said|told me|tells me|telling me|claims?|shows?) (?:that )?(?:there's|there is|there are|i have|i've got|it has) no\b/u,
    gate: ['says', 'said', 'told', 'tells', 'telling', 'claim', 'show'],
  },
  {
    label: '〜がないと言われた',
    intent: 'trouble',
    weight: 1.5,
    pattern: /[がは](?:ない|無い|存在しない|見つからない|見当たらない)(?:って|と)(?:言われ|表示され|出)/u,
    gate: ['言われ', '表示され', 'って出', 'と出'],
  },
  {
    label: '違う…に届いた',
    intent: 'trouble',
    weight: 1.5,
    pattern: new RegExp(`(?:違う|別の|間違った)${CLAUSE}{0,8}?[にが](?:届い|配達され|届け|来た)`, 'u'),
    gate: ['違う', '別の', '間違った'],
  },
  {
    label: 'still shows 0',
    intent: 'trouble',
    weight: 2,
    pattern: /\bstill (?:shows?|showing|says|at|reads) [$¥€£]?0(?:\.00)?\b/u,
    gate: ['still '],
  },
];

/**
 * It used to be bad, now it is good: 前は微妙だったけど今は…, "used to be meh but now …". The
 * complaint and trouble words before the contrast describe the past; they count as praise (negated)
 * and the construction itself is praise. Checked only when one of those words stands before it.
 */
/**
 * "it used to be great": the praise words of a clause about the past count negated (as a faint
 * complaint), unless the clause is the "bad then, good now" of IMPROVED.
 */
export const PAST_PRAISE = /\bused to (?:be )?[^.!?,;]*/u;

export const IMPROVED_GATE: readonly string[] = ['今', '最近', 'いまは', 'now', 'these days'];

export const IMPROVED: readonly RegExp[] = [
  /(?:前|昔|以前|最初|当初)は[^。!?]*?(?:けど|けれど|が、|でも)[^。!?]*?(?:今は|今では|最近は|いまは)/u,
  /\b(?:used to|at first)\b[^.!?]*\bbut (?:now|these days|nowadays)\b/u,
];
