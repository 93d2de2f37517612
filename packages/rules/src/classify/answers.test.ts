import { describe, expect, it } from 'vitest';
import { classifierSchema } from '../config.ts';
import { type AnswerKind, answerBody, classifyAnswer, createAnswerClassifier } from './answers.ts';

function kind(text: string): AnswerKind {
  return classifyAnswer(text).kind;
}

describe('classifyAnswer', () => {
  it.each([
    ['ありがとうございます！', 'thanks'],
    ['@shop_support 助かりました🙏', 'thanks'],
    ['@shop_support@mstdn.jp 解決しました、お手数おかけしました', 'thanks'],
    ['承知しました。', 'thanks'],
    ['再起動したら直りました！', 'thanks'],
    ['thanks, that fixed it', 'thanks'],
    ['Got it, appreciate the help', 'thanks'],
    ['🙏', 'thanks'],
  ] as const)('thanks: %s', (text, expected) => {
    expect(kind(text)).toBe(expected);
  });

  it.each([
    ['ありがとう、全然直ってないけど', 'unhappy'],
    ['ありがとうございます。ですが、まだ届いていません', 'unhappy'],
    ['言われた通りにやりましたが解決しません', 'unhappy'],
    ['テンプレの返信はいらないです', 'unhappy'],
    ['さすがの対応ですね(棒)', 'unhappy'],
    ['thanks but it is still broken', 'unhappy'],
    ["That didn't help at all", 'unhappy'],
    ['not fixed. same error as yesterday', 'unhappy'],
    ['wow, thanks for nothing', 'unhappy'],
  ] as const)('unhappy: %s', (text, expected) => {
    expect(kind(text)).toBe(expected);
  });

  it.each([
    ['ありがとうございます！ちなみにAndroidでも同じ手順ですか？', 'question'],
    ['了解です。解約した場合、データはどうなりますか', 'question'],
    ['thanks! does this work on the web version too?', 'question'],
    ['Got it. How do I change the email on my account?', 'question'],
  ] as const)('question: %s', (text, expected) => {
    expect(kind(text)).toBe(expected);
  });

  it.each([
    ['@shop_support', 'other'],
    ['今電車なので後で見ます', 'other'],
    ["I'm on an iPhone 12 fwiw", 'other'],
  ] as const)('other: %s', (text, expected) => {
    expect(kind(text)).toBe(expected);
  });

  it('gives the words that decided, with the kind each counted for', () => {
    const result = classifyAnswer('@shop ありがとう、全然直ってないけど');
    expect(result.signals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'thanks', word: 'ありがとう', negated: false }),
        expect.objectContaining({ kind: 'unhappy', word: '直って', negated: true }),
      ]),
    );
    expect(result.scores.unhappy).toBeGreaterThan(0);
    expect(result.scores.thanks).toBeGreaterThan(0);
    const english = classifyAnswer("@shop that didn't help");
    expect(english.signals).toEqual([
      expect.objectContaining({ kind: 'unhappy', word: 'help', negated: true }),
    ]);
  });

  it('reports the language: ja with kana or kanji, en for Latin text, und for neither', () => {
    expect(classifyAnswer('@brand ありがとう! thanks').lang).toBe('ja');
    expect(classifyAnswer('@kumoma_app thank you').lang).toBe('en');
    expect(classifyAnswer('@kumoma_app 👍').lang).toBe('und');
  });

  it('strips @mentions (X and Mastodon, full-width ＠) and links, not e-mail addresses', () => {
    expect(answerBody('@a_b @c@mstdn.jp ＠Ｄｅｆ ありがとう https://example.com/help')).toBe('ありがとう');
    expect(answerBody('mail me at me@example.com')).toBe('mail me at me@example.com');
    // A handle that reads like a word decides nothing.
    expect(kind('@thanks_bot @stillbroken 今外出中です')).toBe('other');
  });

  it('a team’s words count for the kind of their intent', () => {
    const config = classifierSchema.parse({ trouble: ['黒画面'], praise: ['また使います'] });
    const classifier = createAnswerClassifier(config);
    expect(classifyAnswer('まだ黒画面です', { classifier }).kind).toBe('unhappy');
    expect(classifyAnswer('また使います', { classifier }).kind).toBe('thanks');
    expect(classifyAnswer('また使います').kind).toBe('other');
  });

  it('refuses what is not text, saying so', () => {
    expect(() => classifyAnswer(42 as unknown as string)).toThrow(/text must be a string, got number/u);
  });
});
