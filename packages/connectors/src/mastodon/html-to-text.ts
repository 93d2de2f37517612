import { Parser } from 'htmlparser2';

/** A mention from the status's `mentions`, to turn a mention link back into `@acct`. */
export interface HtmlMention {
  readonly acct: string;
  readonly url?: string | null | undefined;
  readonly username?: string | null | undefined;
}

/** What the status says about its own HTML. */
export interface HtmlToTextOptions {
  readonly mentions?: readonly HtmlMention[] | null | undefined;
}

// Block elements Mastodon's sanitiser lets through for remote posts; each stands apart as a paragraph.
const BLOCKS = new Set(['p', 'div', 'blockquote', 'pre', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const HIDDEN = new Set(['script', 'style', 'template']);
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//iu;

interface Anchor {
  readonly href: string | undefined;
  readonly classes: readonly string[];
  readonly rel: readonly string[];
  text: string;
}

/** Compares a link's visible text with its href, ignoring what Mastodon hides (scheme, `www.`, tail). */
function showsItsHref(visible: string, href: string): boolean {
  const bare = (s: string) =>
    s
      .trim()
      .replace(SCHEME, '')
      .replace(/^www\./iu, '')
      .replace(/[/…]+$/u, '');
  const shown = bare(visible);
  return shown === '' || bare(href).startsWith(shown);
}

/**
 * Status HTML → the plain text the rules match on: `<br>` is a newline, paragraphs are separated by a
 * blank line, links become their full href (Mastodon hides part of the URL in invisible spans, so
 * the visible text is not the URL), mention links become `@acct` (with the instance for remote
 * accounts, which the HTML leaves out) and hashtag links `#tag`. Entities are decoded; runs of HTML
 * whitespace collapse to one space, except inside `<pre>`. Quote-post compatibility paragraphs
 * (`p.quote-inline`, hidden by Mastodon's own web client) are dropped.
 */
export function mastodonHtmlToText(html: string, options: HtmlToTextOptions = {}): string {
  const mentions = options.mentions ?? [];
  let out = '';
  /** Newlines owed before the next text: 2 after a block, 1 after a list item. */
  let owed = 0;
  let skipDepth = 0;
  let preDepth = 0;
  const anchors: Anchor[] = [];

  const newlinesAtEnd = () => out.length - out.replace(/\n+$/u, '').length;
  const write = (text: string) => {
    if (text === '') return;
    if (owed > 0 && out !== '') out += '\n'.repeat(Math.max(0, owed - newlinesAtEnd()));
    owed = 0;
    out += text;
  };
  const emitText = (raw: string) => {
    const anchor = anchors[anchors.length - 1];
    const text = preDepth > 0 ? raw : raw.replace(/[ \t\n\r\f]+/gu, ' ');
    if (anchor !== undefined) {
      anchor.text += text;
      return;
    }
    // A space at the start of a line is layout, not content.
    write(out === '' || out.endsWith('\n') || owed > 0 ? text.replace(/^ +/u, '') : text);
  };
  const mentionFor = (anchor: Anchor): string | undefined => {
    const byUrl = mentions.find((m) => m.url != null && m.url === anchor.href);
    if (byUrl !== undefined) return byUrl.acct;
    const visible = anchor.text.trim();
    // Only a link that reads as a mention may be matched by name: a plain link labelled "bob" is not one.
    if (!/^[@＠]/u.test(visible)) return undefined;
    const name = visible.slice(1).toLowerCase();
    const byName = mentions.filter((m) => (m.username ?? m.acct.split('@')[0])?.toLowerCase() === name);
    return byName.length === 1 ? byName[0]?.acct : undefined;
  };
  const closeAnchor = (anchor: Anchor) => {
    const visible = anchor.text.trim();
    let text: string;
    if (anchor.classes.includes('hashtag') || anchor.rel.includes('tag')) {
      text = visible.startsWith('#') || visible.startsWith('＃') ? visible : `#${visible}`;
    } else if (anchor.classes.includes('mention') || mentionFor(anchor) !== undefined) {
      const acct = mentionFor(anchor);
      text = acct === undefined ? visible : `@${acct}`;
    } else if (anchor.href !== undefined && SCHEME.test(anchor.href)) {
      text = showsItsHref(visible, anchor.href) ? anchor.href : `${visible} (${anchor.href})`;
    } else {
      text = visible;
    }
    const outer = anchors[anchors.length - 1];
    if (outer !== undefined) outer.text += text;
    else emitText(text);
  };

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        const classes = (attributes.class ?? '').split(/\s+/u).filter(Boolean);
        if (skipDepth > 0 || HIDDEN.has(name) || (name === 'p' && classes.includes('quote-inline'))) {
          skipDepth++;
          return;
        }
        if (name === 'br') {
          // Consecutive <br> are intended blank lines, so each one counts (unlike block boundaries).
          if (anchors.length === 0) out += '\n';
          return;
        }
        if (name === 'a') {
          anchors.push({
            href: attributes.href,
            classes,
            rel: (attributes.rel ?? '').split(/\s+/u),
            text: '',
          });
          return;
        }
        if (name === 'img') {
          // Some servers send custom emoji as images; their alt text is the :shortcode:.
          if (attributes.alt) emitText(attributes.alt);
          return;
        }
        if (name === 'pre') preDepth++;
        if (BLOCKS.has(name)) owed = Math.max(owed, 2);
        else if (name === 'li') owed = Math.max(owed, 1);
      },
      ontext(text) {
        if (skipDepth === 0) emitText(text);
      },
      onclosetag(name) {
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        if (name === 'a') {
          const anchor = anchors.pop();
          if (anchor !== undefined) closeAnchor(anchor);
          return;
        }
        if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
        if (BLOCKS.has(name)) owed = Math.max(owed, 2);
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  // Unclosed anchors (broken markup) still give their text.
  while (anchors.length > 0) {
    const anchor = anchors.pop();
    if (anchor !== undefined) closeAnchor(anchor);
  }
  return out
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/u, ''))
    .join('\n')
    .replace(/^\n+|\n+$/gu, '');
}
