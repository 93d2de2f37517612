/**
 * Plain text → status HTML the way Mastodon's `TextFormatter` renders a local post: paragraphs in
 * `<p>`, single line breaks as `<br />`, links shortened with invisible spans, mentions and hashtags
 * as anchors. Connectors must undo exactly this, so the stand-in has to produce it faithfully.
 */

/** A mention the formatter can link: the account's profile URL and the name shown after `@`. */
export interface MentionTarget {
  readonly url: string;
  readonly username: string;
}

/** What the formatter needs to know about the instance and its accounts. */
export interface StatusHtmlOptions {
  /** Local domain, for hashtag links (`https://{domain}/tags/{tag}`). */
  readonly domain: string;
  /** Resolves `user` or `user@host` to an account; unresolved mentions stay plain text, as on Mastodon. */
  readonly resolveMention: (acct: string) => MentionTarget | undefined;
}

interface Entity {
  readonly start: number;
  readonly end: number;
  readonly html: string;
}

// Mastodon shows 30 characters of a URL after its scheme (and `www.`), hiding the rest.
const URL_DISPLAY_LENGTH = 30;
const URL_PREFIX = /^(?:https?:\/\/(?:www\.)?)/u;
const URL_PATTERN = /https?:\/\/[^\s<>"'\u3000]+/gu;
// Trailing punctuation belongs to the sentence, not the URL (what twitter-text does too).
const URL_TRAILING = /[.,:;!?)\]}'"、。！？」』）]+$/u;
const MENTION_PATTERN = /(?<![\p{L}\p{N}_/=])[@＠]([a-z0-9_]+(?:@[a-z0-9.-]+[a-z0-9])?)/giu;
const HASHTAG_PATTERN = /(?<![\p{L}\p{N}_&/])[#＃]([\p{L}\p{M}\p{N}_]+)/gu;

/** HTML-escapes text the way Rails' `h` does. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Mastodon's `TextFormatter.shortened_link`. */
export function shortenedLink(url: string): string {
  const prefix = URL_PREFIX.exec(url)?.[0] ?? '';
  const rest = url.slice(prefix.length);
  const display = rest.slice(0, URL_DISPLAY_LENGTH);
  const suffix = rest.slice(URL_DISPLAY_LENGTH);
  const cutoff = rest.length > URL_DISPLAY_LENGTH;
  return (
    `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener" translate="no">` +
    `<span class="invisible">${escapeHtml(prefix)}</span>` +
    `<span class="${cutoff ? 'ellipsis' : ''}">${escapeHtml(display)}</span>` +
    `<span class="invisible">${escapeHtml(suffix)}</span></a>`
  );
}

function findEntities(text: string, options: StatusHtmlOptions): Entity[] {
  const found: Entity[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(URL_TRAILING, '');
    found.push({ start: match.index, end: match.index + url.length, html: shortenedLink(url) });
  }
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const acct = match[1] as string;
    const target = options.resolveMention(acct);
    if (target === undefined) continue;
    found.push({
      start: match.index,
      end: match.index + match[0].length,
      html:
        `<span class="h-card" translate="no"><a href="${escapeHtml(target.url)}" class="u-url mention">` +
        `@<span>${escapeHtml(target.username)}</span></a></span>`,
    });
  }
  for (const match of text.matchAll(HASHTAG_PATTERN)) {
    const tag = match[1] as string;
    found.push({
      start: match.index,
      end: match.index + match[0].length,
      html:
        `<a href="https://${options.domain}/tags/${encodeURIComponent(tag.toLowerCase())}" class="mention hashtag" rel="tag">` +
        `#<span>${escapeHtml(tag)}</span></a>`,
    });
  }
  // Earlier entities win; a URL swallows the #fragment or @ inside it.
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Entity[] = [];
  let end = 0;
  for (const entity of found) {
    if (entity.start < end) continue;
    kept.push(entity);
    end = entity.end;
  }
  return kept;
}

/** Renders a plain-text status as Mastodon stores and serves it in `content`. */
export function formatStatusHtml(text: string, options: StatusHtmlOptions): string {
  const normalized = text.replace(/\r\n?/gu, '\n').trim();
  if (normalized === '') return '';
  let inline = '';
  let position = 0;
  for (const entity of findEntities(normalized, options)) {
    inline += escapeHtml(normalized.slice(position, entity.start)) + entity.html;
    position = entity.end;
  }
  inline += escapeHtml(normalized.slice(position));
  // Entity HTML never contains a newline, so splitting the rendered text keeps anchors whole.
  return inline
    .split(/\n{2,}/u)
    .map((paragraph) => `<p>${paragraph.replaceAll('\n', '<br />')}</p>`)
    .join('');
}
