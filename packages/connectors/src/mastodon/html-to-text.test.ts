import { escapeHtml, formatStatusHtml } from '@kikimimi/sandbox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mastodonHtmlToText } from './html-to-text.ts';

const bob = { acct: 'bob@remote.example', username: 'bob', url: 'https://remote.example/@bob' };
const alice = { acct: 'alice', username: 'alice', url: 'https://mastodon.example/@alice' };

describe('mastodonHtmlToText', () => {
  it.each([
    ['a paragraph', '<p>Hello world</p>', 'Hello world'],
    ['paragraphs, separated by a blank line', '<p>one</p><p>two</p><p>three</p>', 'one\n\ntwo\n\nthree'],
    ['<br> as a newline, in every spelling', '<p>a<br>b<br/>c<br />d</p>', 'a\nb\nc\nd'],
    ['consecutive <br> as blank lines', '<p>a<br><br>b</p>', 'a\n\nb'],
    ['a <br> at the end of a paragraph, once', '<p>a<br></p><p>b</p>', 'a\n\nb'],
    [
      'a shortened link as its full href, not the visible part',
      '<p>see <a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance" rel="nofollow noopener" target="_blank"><span class="invisible">https://www.</span><span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">/07/i-lost-my-193000-inheritance</span></a> now</p>',
      'see https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance now',
    ],
    [
      'a link whose label is not its URL, with both',
      '<p><a href="https://example.com/docs">the docs</a></p>',
      'the docs (https://example.com/docs)',
    ],
    [
      'a remote mention as @user@instance (the HTML shows only @user)',
      '<p><span class="h-card" translate="no"><a href="https://remote.example/@bob" class="u-url mention">@<span>bob</span></a></span> hi</p>',
      '@bob@remote.example hi',
    ],
    [
      'a local mention as @user',
      '<p>cc <span class="h-card"><a href="https://mastodon.example/@alice" class="u-url mention">@<span>alice</span></a></span></p>',
      'cc @alice',
    ],
    [
      'a mention link the list does not know, as its text',
      '<p><a href="https://elsewhere.example/@carol" class="u-url mention">@<span>carol</span></a></p>',
      '@carol',
    ],
    [
      'a mention matched by name when the URL differs (remote profile redirects)',
      '<p><a href="https://remote.example/users/bob" class="u-url mention">@<span>bob</span></a></p>',
      '@bob@remote.example',
    ],
    [
      'a hashtag as #tag, keeping its case',
      '<p><a href="https://mastodon.social/tags/cats" class="mention hashtag" rel="tag">#<span>Cats</span></a> and <a href="https://chaos.social/tags/Qualit%C3%A4tskatzen" class="mention hashtag" rel="nofollow noopener noreferrer" target="_blank">#<span>Qualitätskatzen</span></a></p>',
      '#Cats and #Qualitätskatzen',
    ],
    [
      'a hashtag link marked only by rel="tag"',
      '<p><a href="https://x.example/tags/a" rel="tag">a</a></p>',
      '#a',
    ],
    [
      'entities decoded',
      '<p>&quot;Q&amp;A&quot; &lt;b&gt; &#39;x&#39; &#x1F600; &hellip; &nbsp;!</p>',
      '"Q&A" <b> \'x\' 😀 … \u00a0!',
    ],
    ['emoji and custom emoji shortcodes kept', '<p>😀👍🏽 :blobcat: 日本語</p>', '😀👍🏽 :blobcat: 日本語'],
    ['HTML whitespace collapsed and trimmed', '<p>  a \n\t b  </p>\n<p> c </p>', 'a b\n\nc'],
    ['pre keeps its whitespace', '<pre>a  b\n  c</pre>', 'a  b\n  c'],
    [
      'blockquote and lists as blocks and lines',
      '<p>x</p><blockquote><p>q</p></blockquote><ul><li>1</li><li>2</li></ul>',
      'x\n\nq\n\n1\n2',
    ],
    [
      'quote-post compatibility paragraph dropped',
      '<p class="quote-inline">RE: <a href="https://a.example/1">a.example/1</a></p><p>mine</p>',
      'mine',
    ],
    ['scripts dropped', '<p>a<script>alert(1)</script>b</p>', 'ab'],
    [
      'custom emoji images as their alt text',
      '<p>hi <img src="x.png" alt=":wave:" class="emoji"></p>',
      'hi :wave:',
    ],
    [
      'broken markup without a crash',
      '<p>a <a href="https://e.example/x">e.example/x</p><p>b',
      'a https://e.example/x\n\nb',
    ],
    ['no markup at all', 'just text', 'just text'],
    ['an empty string', '', ''],
  ])('renders %s', (_name, html, expected) => {
    expect(mastodonHtmlToText(html, { mentions: [bob, alice] })).toBe(expected);
  });

  // HTML whitespace only: JavaScript's trim() also strips U+3000 and friends, which HTML keeps.
  const collapse = (s: string) => s.replace(/[ \t\n\r\f]+/gu, ' ').replace(/^ | $/gu, '');
  const safeText = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => !s.includes('\0'));

  it('gives back any escaped text unchanged but for collapsed whitespace (property)', () => {
    fc.assert(
      fc.property(safeText, (text) => {
        expect(mastodonHtmlToText(`<p>${escapeHtml(text)}</p>`)).toBe(collapse(text));
      }),
    );
  });

  it('never throws and never leaves a tag behind, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (html) => {
        const text = mastodonHtmlToText(html);
        expect(text).not.toMatch(/<\/?(p|br|a|span)\b[^>]*>/iu);
      }),
    );
  });

  it('undoes what Mastodon does to a plain-text status (property)', () => {
    const word = fc
      .stringMatching(/^[a-zA-Z0-9ぁ-んァ-ン漢字<>&"'.,!?]{1,8}$/u)
      .filter((w) => !w.startsWith('http'));
    const url = fc
      .stringMatching(/^[a-z0-9/=&_-]{0,50}$/u)
      .map((path) => `https://example.com/${path.replace(/^\/+/u, '')}`.replace(/[/_-]+$/u, ''));
    const tag = fc.stringMatching(/^[a-zA-Z_ぁ-ん][a-zA-Z0-9_ぁ-ん]{0,10}$/u).map((t) => `#${t}`);
    const mention = fc.constantFrom('@bob@remote.example', '@alice');
    const separator = fc.constantFrom(' ', ' ', ' ', '\n', '\n\n');
    const status = fc
      .array(fc.tuple(fc.oneof(word, url, tag, mention), separator), { minLength: 1, maxLength: 12 })
      .map((parts) =>
        parts
          .map(([token, sep]) => token + sep)
          .join('')
          .trim(),
      );
    const accounts = new Map([
      ['bob@remote.example', bob],
      ['alice', alice],
    ]);
    fc.assert(
      fc.property(status, (text) => {
        const html = formatStatusHtml(text, {
          domain: 'mastodon.example',
          resolveMention: (acct) => accounts.get(acct.toLowerCase()),
        });
        expect(mastodonHtmlToText(html, { mentions: [bob, alice] })).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
