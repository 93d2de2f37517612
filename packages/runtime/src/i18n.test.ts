import { describe, expect, it } from 'vitest';
import { createTranslator, fillText, langOfLocale } from './i18n.ts';

describe('i18n', () => {
  const t = createTranslator({
    hello: { ja: '{name}さん、こんにちは', en: 'Hello, {name}' },
    plain: { ja: 'はい', en: 'Yes' },
  });

  it('looks a key up in the reader’s language and fills its placeholders', () => {
    expect(t('ja', 'hello', { name: '花子' })).toBe('花子さん、こんにちは');
    expect(t('en', 'hello', { name: 'Alex' })).toBe('Hello, Alex');
    expect(t('en', 'plain')).toBe('Yes');
  });

  it('leaves a placeholder without a value as written, and never reads inherited names', () => {
    expect(fillText('{a} {b} {constructor}', { a: 1 })).toBe('1 {b} {constructor}');
  });

  it.each([
    ['ja', 'en', 'ja'],
    ['ja-JP', 'en', 'ja'],
    ['en-US', 'ja', 'en'],
    ['fr', 'ja', 'en'],
    [null, 'ja', 'ja'],
    ['', 'en', 'en'],
  ] as const)('locale %j (fallback %s) → %s', (locale, fallback, lang) => {
    expect(langOfLocale(locale, fallback)).toBe(lang);
  });
});
