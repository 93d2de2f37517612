import { describe, expect, it } from 'vitest';
import { type ClassifierConfig, classifierSchema, type Intent } from '../config.ts';
import { normalizeText, splitUrls } from '../normalize.ts';
import { categoryForIntent, createClassifier, type IntentResult, MAX_SIGNALS } from './classify.ts';

// These tests pin the dictionary's own reading (words, negation, grammar, precedence): what the
// learned model reads, and what decides alone when a team replaces the built-in words. The classifier
// with its model is tested in model.test.ts.
const builtIn = createClassifier(classifierSchema.parse(undefined), {}, { model: null });

function run(text: string, classifier = builtIn): IntentResult {
  return classifier.classify(normalizeText(splitUrls(text).prose));
}

function configured(overrides: Partial<ClassifierConfig>): ReturnType<typeof createClassifier> {
  return createClassifier(classifierSchema.parse(overrides), {}, { model: null });
}

describe('classify: plain intents', () => {
  it.each<[string, Intent]>([
    ['ブクログ便利すぎる、毎日使ってます', 'praise'],
    ['この神アプリのおかげで読書が続いてる', 'praise'],
    ['サポートの方、丁寧に対応していただきありがとうございました', 'praise'],
    ['The new update is awesome, thank you!', 'praise'],
    ['今回のアプデ改悪すぎる', 'complaint'],
    ['UIが使いにくくなった、前の方がよかった', 'complaint'],
    ['Worst update ever, really disappointed', 'complaint'],
    ['朝からエラーでアプリが開かない', 'trouble'],
    ['サーバー落ちてる？データ消えたんだけど', 'trouble'],
    ['The app keeps crashing on startup', 'trouble'],
    ['Payment failed but I was charged twice', 'trouble'],
    ['本棚を非公開にする方法を教えてください', 'question'],
    ['How do I change my email address?', 'question'],
    ['Is there a way to export my data', 'question'],
    ['does the app work offline', 'question'],
    ['ブクログに3冊登録した', 'neutral'],
    ['Booklog announces new features https://example.com/news', 'neutral'],
    ['', 'neutral'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});

describe('classify: negation', () => {
  it.each<[string, Intent]>([
    // Japanese: the negation follows the word.
    ['使いにくくない', 'praise'],
    ['前評判ほど悪くない', 'praise'],
    ['思ってたより不便じゃない', 'praise'],
    ['最悪ではないけど', 'praise'],
    ['問題ない', 'neutral'],
    ['問題なく使えてます', 'neutral'],
    ['エラーなく動いた', 'neutral'],
    ['好きじゃない', 'complaint'],
    ['便利じゃないです', 'complaint'],
    // "…くない？" asks for agreement: the word stands.
    ['この仕様ひどくない？', 'complaint'],
    ['使いにくくないですか', 'complaint'],
    ['最高じゃない？', 'praise'],
    ['悪くなくない？', 'complaint'],
    ['アプデで不便じゃなくなった', 'praise'],
    // English: the negation precedes the word.
    ['not bad at all', 'praise'],
    ['honestly not terrible', 'praise'],
    ['no problem, all good', 'praise'],
    ['no problems', 'neutral'],
    ['never disappoints', 'praise'],
    ['not great', 'complaint'],
    ['not happy with the new layout', 'complaint'],
    ["can't recommend it enough", 'praise'],
    ["can't wait for the next event", 'praise'],
    // The negation IS the trouble.
    ['not working', 'trouble'],
    ["doesn't work since the update", 'trouble'],
    ['stopped working after the update', 'trouble'],
    ['nothing loads', 'trouble'],
    ['動かない', 'trouble'],
    ['できない', 'trouble'],
    ['反映されてない', 'trouble'],
    ['届いていません', 'trouble'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});

describe('classify: spelling variants', () => {
  it.each([
    'ログインできない',
    'ログインできません',
    'ﾛｸﾞｲﾝできない',
    'ろぐいんできない',
    'ログイン出来ない',
    'ログインができない',
    'ログインできなくて困ってます',
    'ＬＯＧＩＮできない、ログインできず',
  ])('%s is trouble', (text) => {
    expect(run(text).intent).toBe('trouble');
  });

  it.each([
    "can't log in",
    'Can’t log in!',
    'cant login',
    'cannot log in',
    'can not sign in',
    'unable to sign in',
    'Unable to connect to the server',
    "I can't even log in",
    "it won't let me log in",
    "couldn't log into my account",
  ])('%s is trouble', (text) => {
    expect(run(text).intent).toBe('trouble');
  });

  it('matches Latin words only on word boundaries', () => {
    expect(run('scroll down to the bottom').intent).toBe('neutral');
    expect(run('download the app today').intent).toBe('neutral');
    expect(run('a terrorist movie').intent).toBe('neutral');
    expect(run('the app is down').intent).toBe('trouble');
  });

  it('does not read a folded katakana word as a negation (便利なインターフェース)', () => {
    const result = run('便利なインターフェース');
    expect(result.intent).toBe('praise');
    expect(result.signals).toMatchObject([{ intent: 'praise', word: '便利', negated: false }]);
  });

  it('does not take place names for 神 (神戸, 神奈川)', () => {
    expect(run('神戸と神奈川に出張').intent).toBe('neutral');
  });
});

describe('classify: Japanese conjugations', () => {
  it.each<[string, Intent]>([
    // A verbal noun negated through する / できる turns around like an adjective.
    ['満足できない', 'complaint'],
    ['安心できません', 'complaint'],
    ['感動しなかった', 'complaint'],
    ['フリーズしなくなった', 'praise'],
    ['満足してます', 'praise'],
    // Colloquial 〜ん completes a trouble stem; できんの？ ("can you?") does not.
    ['動かん', 'trouble'],
    ['ログインできん', 'trouble'],
    ['できんの？', 'question'],
    // 〜しにくい / 〜しづらい after a verb; bare 〜にくい is left alone (壊れにくい is praise).
    ['ボタンが押しにくい', 'complaint'],
    ['設定が探しづらい', 'complaint'],
    ['このケース、壊れにくい', 'praise'],
    // 〜てほしい is a wish; its negation is no praise.
    ['勝手に変えてほしくない', 'complaint'],
    ['もう少し安くしてほしい', 'complaint'],
    // 〜てよかった, また〜ます: a glad customer.
    ['買ってよかった', 'praise'],
    ['また来ます！', 'praise'],
    // もう / 二度と + a negated verb: not any more.
    ['もう二度と行かない', 'complaint'],
    ['もう乗らない', 'complaint'],
    // A price going up, or what you get going down.
    ['値段が上がった', 'complaint'],
    ['還元率が下がった', 'complaint'],
    // What people try when they are stuck, and states that do not move on.
    ['再起動しても直らない', 'trouble'],
    ['荷物が配送中のまま', 'trouble'],
    ['払ったのに反映されてない', 'trouble'],
    // さすが praises; さすがに ("come on") leans the other way.
    ['さすが老舗、対応が早い', 'praise'],
    ['さすがに高すぎ', 'complaint'],
    // 解約したら asks about a cancellation; it is not one.
    ['途中で解約したら日割りになりますか', 'question'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});

describe('classify: English forms', () => {
  it.each<[string, Intent]>([
    ['nothing has synced since monday', 'trouble'],
    ["my order hasn't been delivered", 'trouble'],
    ["the app won't let me", 'trouble'],
    ['not complaining', 'praise'],
    ["can't complain", 'praise'],
    ['no complaints', 'praise'],
    ["it's back and working again, thanks", 'praise'],
    ['support sorted my issue, thanks', 'praise'],
    ["won't be back", 'complaint'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});

describe('classify: sarcasm', () => {
  it.each<[string, Intent]>([
    ['Oh great, another price hike', 'complaint'],
    ['love that for me 🙃', 'complaint'],
    ['so "helpful", thanks for nothing', 'complaint'],
    // A single praise word in scare quotes is turned around…
    ['the "improved" layout', 'complaint'],
    ['the “best” update ever', 'complaint'],
    // …a quoted phrase is plain quotation.
    ['they said "thank you"', 'praise'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});

describe('classify: ads, news and official notices', () => {
  it.each<[string, Intent]>([
    ['【PR】今なら最大50%オフ！最高の体験を', 'neutral'],
    ['Sponsored: the best deals in town!', 'neutral'],
    ['#ad Try it free, you will love it', 'neutral'],
    ['【お知らせ】本日メンテナンスを実施します。ご不便をおかけしますがご了承ください', 'neutral'],
    ['Booklog announces a new app, and it is great', 'neutral'],
    // Weak markers only damp weak evidence: a clear report still counts.
    ['キャンペーンのポイントが反映されない', 'trouble'],
    ['the new app launches today and it keeps crashing', 'trouble'],
    ['新機能リリースされてて最高', 'praise'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });

  it('reports the markers, each distinct one raising the evidence needed once', () => {
    const result = run('#PR 最高！ #PR');
    expect(result.notices.map((n) => n.word)).toEqual(['#pr']);
    expect(result.scores.praise).toBe(2);
    expect(result.intent).toBe('neutral');
    expect(run('最高！').notices).toEqual([]);
  });

  it('applies only with the built-in dictionaries', () => {
    const classifier = configured({ useBuiltIn: false, praise: ['最高'] });
    expect(run('【PR】最高', classifier).intent).toBe('praise');
  });
});

describe('classify: words that only look like signals', () => {
  it.each([
    'ご確認ください', // ください holds ださい (ダサい)
    '最低限の機能はある', // 最低限 holds 最低
    '障害者割引あります', // 障害者 holds 障害
    'good morning everyone',
    'Release notes: bug fixes and performance improvements',
    'このまま様子を見る',
    // Hints that count only together with other evidence.
    'もう少しで届く',
    'なぜ',
  ])('%s is neutral', (text) => {
    expect(run(text).intent).toBe('neutral');
  });
});

describe('classify: precedence', () => {
  it.each<[string, Intent]>([
    // Guidance first: someone who is stuck needs help before an apology.
    ["can't log in, this app is the worst", 'trouble'],
    ['ログインできないし最悪', 'trouble'],
    ['ログインできないんですが、どうすればいいですか', 'trouble'],
    ['love the app but it keeps crashing', 'trouble'],
    // The clause after but/けど carries the point.
    ['好きだったけど最近の改悪でもう使いたくない', 'complaint'],
    ['昔は使いにくかったけど、今は使いやすい', 'praise'],
    ['I used to love it but the ads are unbearable now', 'complaint'],
    // Rhetorical why loses to a real complaint; a how-to question beats a mild one.
    ['why is the new layout so terrible?', 'complaint'],
    ['How do I turn off the new layout? It is a bit confusing', 'question'],
    // A fixed problem with thanks is praise.
    ['不具合直ってた！対応ありがとうございます', 'praise'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });

  it('breaks exact ties trouble > complaint > question > praise', () => {
    const classifier = configured({
      useBuiltIn: false,
      praise: ['aaa'],
      complaint: ['bbb'],
      trouble: ['ccc'],
      question: ['ddd'],
    });
    expect(run('aaa ddd', classifier).intent).toBe('question');
    expect(run('aaa bbb ddd', classifier).intent).toBe('complaint');
    expect(run('aaa bbb ccc ddd', classifier).intent).toBe('trouble');
  });

  it('counts a repeated word once', () => {
    const once = run('最悪');
    const thrice = run('最悪最悪最悪');
    expect(thrice.signals).toHaveLength(1);
    expect(thrice.scores.complaint).toBe(once.scores.complaint);
  });

  it('calls evidence below the threshold neutral', () => {
    const result = run('バグもなく');
    expect(result.signals).toMatchObject([{ intent: 'trouble', negated: true }]);
    expect(result.intent).toBe('neutral');
  });

  it('reads 〜んですが as a preface, not a contrast', () => {
    const result = run('ログインできないんですが、どうすればいいですか');
    expect(result.signals[0]).toMatchObject({ intent: 'trouble', weight: 2 });
  });
});

describe('classify: signals and scores', () => {
  it('returns every signal with its entry, offset, negation and weight', () => {
    const text = normalizeText('アプリは悪くないけどログインできない');
    const result = builtIn.classify(text);
    expect(result.intent).toBe('trouble');
    expect(result.category).toBe('guidance');
    expect(result.signals).toEqual([
      { intent: 'complaint', word: '悪い', at: text.indexOf('悪'), negated: true, weight: 0.6 },
      { intent: 'trouble', word: 'ログインでき', at: text.indexOf('ろぐいん'), negated: true, weight: 2 },
    ]);
    expect(result.scores).toEqual({ praise: 0.3, complaint: 0, trouble: 2, question: 0 });
  });

  it('reports English signals at their offset in the normalised text', () => {
    const result = run('Great app, but how do I export?');
    expect(result.signals.map((s) => [s.intent, s.word, s.at])).toEqual([
      ['praise', 'great', 0],
      ['question', 'how do i', 15],
      ['question', '?', 30],
    ]);
    expect(result.intent).toBe('question');
  });
});

describe('createClassifier: configuration', () => {
  it('adds configured words to the built-in ones', () => {
    const classifier = configured({ trouble: ['文鎮化'], praise: ['ちょうどいい'] });
    expect(run('アプデしたら文鎮化した', classifier).intent).toBe('trouble');
    expect(run('アプデしたら文鎮化した').intent).toBe('neutral');
    expect(run('このサイズ感がチョウドイイ', classifier).intent).toBe('praise');
    expect(run('最高', classifier).intent).toBe('praise');
  });

  it('lets a configured word override a built-in one with the same spelling', () => {
    expect(run('アプリが重い').intent).toBe('complaint');
    expect(run('アプリが重い', configured({ trouble: ['重い'] })).intent).toBe('trouble');
  });

  it('uses only configured words when useBuiltIn is false', () => {
    const classifier = configured({ useBuiltIn: false, complaint: ['イマイチ'] });
    expect(run('最高！ありがとう', classifier).intent).toBe('neutral');
    expect(run('ログインできない', classifier).intent).toBe('neutral');
    expect(run('正直いまいち', classifier).intent).toBe('complaint');
    expect(run('いまいちじゃない', classifier).intent).toBe('praise');
  });

  it('applies configured negators (Japanese after the word, English before it)', () => {
    expect(run('不便ちゃう').intent).toBe('complaint');
    expect(run('不便ちゃう', configured({ negators: ['ちゃう'] })).intent).toBe('praise');
    expect(run('nah terrible').intent).toBe('complaint');
    expect(run('nah terrible', configured({ negators: ['nah'] })).intent).toBe('praise');
  });

  it('inflects configured Japanese adjectives', () => {
    const classifier = configured({ complaint: ['もっさりしてる'], praise: ['軽快い'] });
    expect(run('動作がもっさりしてる', classifier).intent).toBe('complaint');
    expect(run('軽快くて好き', classifier).signals[0]).toMatchObject({ word: '軽快い', intent: 'praise' });
  });
});

describe('categoryForIntent', () => {
  it.each<[Intent, ReturnType<typeof categoryForIntent>]>([
    ['praise', 'thanks'],
    ['complaint', 'apology'],
    ['trouble', 'guidance'],
    ['question', 'guidance'],
    ['neutral', null],
  ])('%s → %s', (intent, category) => {
    expect(categoryForIntent(intent)).toBe(category);
  });

  it('is what classify reports', () => {
    expect(run('最悪').category).toBe('apology');
    expect(run('ありがとう').category).toBe('thanks');
    expect(run('ブクログ').category).toBeNull();
  });
});

describe('classify: long posts', () => {
  const sentences = [
    'ブクログ便利すぎる、',
    'でもログインできない。',
    'エラーで開かない！',
    '使いにくいし改悪だと思う。',
    'How do I export my data? ',
    'the app keeps crashing, worst update ever. ',
  ];
  const long = sentences.join('').repeat(60).slice(0, 5000);

  it(`reports at most ${MAX_SIGNALS} signals, each word once, however long the post`, () => {
    const result = run(long);
    expect(long.length).toBe(5000);
    expect(result.signals.length).toBeLessThanOrEqual(MAX_SIGNALS);
    const keys = result.signals.map((s) => `${s.intent}:${s.word}:${s.negated}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(result.notices.length).toBeLessThanOrEqual(MAX_SIGNALS);
  });

  it('decides on every signal, not only the reported ones, and reports them in text order', () => {
    const result = run(long);
    expect(result.intent).toBe('trouble');
    const offsets = result.signals.map((s) => s.at);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(result.signals.some((s) => s.intent === 'trouble')).toBe(true);
  });

  it('keeps the words behind the decided intent when it has to leave some out', () => {
    const words = (prefix: string) => Array.from({ length: MAX_SIGNALS }, (_, k) => `${prefix}${k}`);
    const classifier = configured({ praise: words('yay'), trouble: words('oops') });
    const result = run(`${words('yay').join(' ')} ${words('oops').join(' ')}`, classifier);
    expect(result.intent).toBe('trouble');
    expect(result.signals).toHaveLength(MAX_SIGNALS);
    expect(result.signals.every((s) => s.intent === 'trouble')).toBe(true);
  });
});

describe('classify: intent misses found on new posts (issue 13)', () => {
  it.each<[string, Intent]>([
    // Sarcasm: praise with an irony marker, or "love how …" about a failure, is a complaint.
    ['ブクログの新UI、本当にありがとうございます(皮肉)', 'complaint'],
    ['ブクログ、さすがです(棒)', 'complaint'],
    ['新機能最高ですね（棒読み）', 'complaint'],
    ['thanks for the update /s', 'complaint'],
    ['love how it crashed. Great job.', 'complaint'],
    ['love how the sync broke again', 'complaint'],
    // Wishes hope for something; they praise nothing yet.
    ['ブクログのアプリ、速いといいな', 'neutral'],
    ['次のアップデートで便利になるといいなあ', 'neutral'],
    ['hope the new version is fast', 'neutral'],
    ['hopefully the new app is great', 'neutral'],
    // Polite requests ask for a change: guidance, not praise.
    ['検索結果をもう少し分かりやすくしていただけると嬉しいのですが', 'question'],
    ['通知をオフにできるようにしてもらえると助かります', 'question'],
    ['would be great if you added dark mode', 'question'],
    ['it would be nice to have a search', 'question'],
    // Paid but not applied is trouble.
    ['課金したのに反映されてない', 'trouble'],
    ['paid for premium but it still shows the free plan', 'trouble'],
    ['I paid and my account is not upgraded', 'trouble'],
    // Asking whether a service ends (or a price rises) is a question.
    ['ブクログってサービス終了するの?', 'question'],
    ['来月から値上げするんですか？', 'question'],
    ['is Booklog shutting down?', 'question'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });

  it.each([
    'ブクログ初心者なんですが、本棚の並び替えはできますか？',
    '便利なんで毎日使ってる',
    '好きなんですけど',
  ])('does not read なんで ("why") inside なんです / a reason clause: %s', (text) => {
    expect(run(text).signals.map((s) => s.word)).not.toContain('なんで');
  });

  it('still reads なんで as "why" at the start of a clause', () => {
    expect(run('なんで同期されないの').signals.map((s) => s.word)).toContain('なんで');
    expect(run('ブクログ、なんで重いの').signals.map((s) => s.word)).toContain('なんで');
  });
});

describe('classify: complaints and trouble without evaluative words (round 4, constructions.ts)', () => {
  it.each<[string, Intent]>([
    // It happened before, and again.
    ['配送業者がまた置き配無視してるんだけど、これ何回目?', 'complaint'],
    ['また仕様変更?', 'complaint'],
    ['The courier threw my box over the fence. again.', 'complaint'],
    ['they moved the pickup counter again?', 'complaint'],
    ['support closed my ticket without an answer. again?', 'complaint'],
    ['the fridge light went out yet again', 'complaint'],
    ['問い合わせてから何週間も返事がない', 'complaint'],
    ['the lobby elevator has been blocked off for months', 'complaint'],
    // Rhetorical questions.
    ['アプリでしか予約受け付けないって、高齢者は来るなってこと?', 'complaint'],
    ['毎回ポップアップ出るのなんなの', 'complaint'],
    ['why do I have to call to change my plan', 'complaint'],
    ['how hard is it to put the price on the menu', 'complaint'],
    ['a 40 dollar fee to change a seat? seriously?', 'complaint'],
    ['返金の連絡すらない', 'complaint'],
    // It used to be better; it got smaller.
    ['前は送料無料だったのに', 'complaint'],
    ['有料会員なのに広告が出る仕様', 'complaint'],
    ['the site used to list every branch, now you need an account to see them', 'complaint'],
    ['お弁当、中身が少なくなった気がする', 'complaint'],
    ['the portions got smaller and the menu price went up', 'complaint'],
    ['the bakery used to be great', 'complaint'],
    ['Emailed three times and got the same reply each time', 'complaint'],
    ['何回聞いても同じ返信が来る', 'complaint'],
    ['the discount is 5 percent at best', 'complaint'],
    // A policy phrased as "can't" (tie-break 7).
    ['解約は窓口に行かないとできないらしい', 'complaint'],
    ['座席は前日しか選べなくなった', 'complaint'],
    // Something went wrong that needs fixing.
    ['the reception desk says there is no reservation under my name', 'trouble'],
    ['予約したのに会員情報がないって言われた', 'trouble'],
    ['注文したシャツ、違う人の住所に届いたらしい', 'trouble'],
    ['topped up yesterday and the card still shows 0', 'trouble'],
    // A contrast at the end of its sentence does not weaken what came before it.
    ['同期が朝から止まったまま。昨日は動いてたのに', 'trouble'],
    // Bad then, good now.
    ['前は画質が微妙だったけど今は文句なしにきれい', 'praise'],
    ['checkout used to be a mess but now it takes ten seconds, impressive', 'praise'],
    ['量もちょうどいい', 'praise'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });

  it('keeps real questions and plans with the same words', () => {
    expect(run('また行けますか?').intent).toBe('question');
    expect(run('could you send the link again?').intent).not.toBe('complaint');
    expect(run('we will definitely order again!').intent).not.toBe('complaint');
    expect(run('ログインしないと使えない機能ってどれですか?').intent).toBe('question');
  });

  it('names the construction in the signals and drops the rhetorical question', () => {
    const result = run('これで何回目?');
    expect(result.signals.map((s) => s.word)).toContain('何回目?');
    expect(result.scores.question).toBe(0);
  });
});

describe('classify: costs, limits and changes for the worse without evaluative words (round 5)', () => {
  it.each<[string, Intent]>([
    ['ストア、駐車場が有料になってた', 'complaint'],
    ['振込するだけで手数料300円取られる', 'complaint'],
    ['The gym started charging for towels', 'complaint'],
    ['窓口、平日なのに1つしか開いてない', 'complaint'],
    ['いつかけても話し中の電話窓口', 'complaint'],
    ['Their chat is offline no matter when I try', 'complaint'],
    ['ログインのたびに3回も認証させられる', 'complaint'],
    ['waited 40 minutes just to be told to email them', 'complaint'],
    ['返品の条件、厳しくなってる', 'complaint'],
    ['the free tier got stricter overnight', 'complaint'],
    ['この新機能、誰得なの', 'complaint'],
    ['who is this redesign even for', 'complaint'],
    ['キャンセル料がかかるって聞いてない', 'complaint'],
    ['parking was free last month', 'complaint'],
  ])('%s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });

  it.each<[string, Intent]>([
    ['いつも使わせてもらってます、便利', 'praise'],
    ['これはもう買うしかない', 'neutral'],
    ['ハイボール1杯2000円だった', 'neutral'],
    ['いつでも返品できるの安心', 'praise'],
    ['有料になりますか？', 'question'],
  ])('not a complaint: %s → %s', (text, intent) => {
    expect(run(text).intent).toBe(intent);
  });
});
