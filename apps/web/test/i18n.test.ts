import { describe, expect, it } from 'vitest';
import '../src/app.ts';
import { allMessages } from '../src/i18n.ts';
import { englishIn } from './english.ts';

/**
 * Messages where the other language is meant: the language switch, the Japanese names of the three
 * gestures kept in the English console, X's own label, and examples of what to type.
 */
const MIXED_ON_PURPOSE = new Set([
  'nav.language',
  'config.category.thanks',
  'config.category.apology',
  'config.category.guidance',
  'config.account.appSecret',
  'config.watch.queryHint',
  'config.template.previewHint',
  'config.suppression.linkedAuthorsHint',
  'config.query.unknown_operator',
  'auth.tokens.intro',
  'config.connect.xHint',
]);

const JAPANESE = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/gu)].map((m) => m[1]).sort();

describe('the message catalogues', () => {
  const messages = [...allMessages()];

  it('are loaded (every feature registers its messages)', () => {
    expect(messages.length).toBeGreaterThan(300);
  });

  it.each(messages)(
    '%s has both languages, each in its own language, with the same placeholders',
    (key, m) => {
      expect(m.ja.trim()).not.toBe('');
      expect(m.en.trim()).not.toBe('');
      if (!MIXED_ON_PURPOSE.has(key)) {
        expect(englishIn(m.ja)).toEqual([]);
        expect(m.en).not.toMatch(JAPANESE);
      }
      expect(placeholders(m.ja)).toEqual(placeholders(m.en));
    },
  );
});
