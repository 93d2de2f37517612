import type { Category, Template } from '../config.ts';
import { isValidHandle } from '../handles.ts';
import type { Platform, Post } from '../post.ts';

/**
 * Reply templates: placeholder syntax, validation, rendering and choosing a template for a match.
 *
 * Syntax: `{author.name}`, `{author.handle}`, `{post.url}`, `{watch}`, `{vars.NAME}`; `{{` and `}}` write
 * literal braces. Offsets in problems are UTF-16 indices into the template text (what editors use).
 *
 * Trust: the template text and the configuration variables are written by the team and go out as they
 * are (a mention in them is meant). Everything else — display name, handle, post URL, watch name — is
 * cleaned and has its at signs neutralised, so that a display name like "@everyone" cannot make our
 * public reply (or the Discord message quoting it) mention anyone.
 */

/** The placeholders every template may use, besides `vars.NAME`. */
export const BUILT_IN_PLACEHOLDERS = ['author.name', 'author.handle', 'post.url', 'watch'] as const;

/** Display names longer than this many characters (grapheme clusters) are shortened with "…". */
export const MAX_DISPLAY_NAME_LENGTH = 50;

/**
 * Inserted after every at sign of an outside value. A mention needs a name character right after the
 * at sign (twitter-text: `[@＠][a-zA-Z0-9_]`, Mastodon: `@[a-z0-9_]`, Discord: `@everyone`, `<@id>`),
 * and U+2060 is an invisible format character that is none of these and, unlike U+200B, does not
 * allow a line break between "@" and the name. It costs 2 of X's 280.
 */
export const MENTION_BREAKER = '\u2060';

const VARIABLE_PREFIX = 'vars.';

/** What kind of problem a template has. */
export type TemplateProblemCode =
  | 'unknown-placeholder'
  | 'unclosed-brace'
  | 'stray-brace'
  | 'mention-before-placeholder';

/** A problem in a template's text; `offset` and `length` are UTF-16 units, for highlighting. */
export interface TemplateProblem {
  code: TemplateProblemCode;
  message: string;
  offset: number;
  length: number;
}

/** A `{…}` placeholder found in a template; `name` is what is between the braces. */
export interface PlaceholderRef {
  name: string;
  offset: number;
  length: number;
}

/** Thrown by {@link renderTemplate} for a template {@link checkTemplateText} would reject. */
export class TemplateError extends Error {
  readonly problems: readonly TemplateProblem[];

  constructor(problems: readonly TemplateProblem[]) {
    super(`invalid template: ${problems.map((p) => `${p.message} (at ${p.offset})`).join('; ')}`);
    this.name = 'TemplateError';
    this.problems = problems;
  }
}

/** What a rendering needs: the post answered, the watch that matched it and the configuration variables. */
export interface RenderContext {
  post: Post;
  watch: { id: string; name?: string | undefined };
  variables: Record<string, string>;
}

type Token = { kind: 'text'; text: string } | ({ kind: 'placeholder' } & PlaceholderRef);

interface Scanned {
  tokens: Token[];
  /** Syntax problems only (unclosed and stray braces). */
  problems: TemplateProblem[];
}

function scan(text: string): Scanned {
  const tokens: Token[] = [];
  const problems: TemplateProblem[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '{' || c === '}') {
      if (text[i + 1] === c) {
        literal += c;
        i += 2;
        continue;
      }
      const close = c === '{' ? findClose(text, i + 1) : -1;
      if (close === -1) {
        problems.push(
          c === '{'
            ? {
                code: 'unclosed-brace',
                message: '"{" is not closed: end the placeholder with "}", or write "{{" for a literal "{"',
                offset: i,
                length: 1,
              }
            : {
                code: 'stray-brace',
                message: '"}" closes nothing: write "}}" for a literal "}"',
                offset: i,
                length: 1,
              },
        );
        literal += c;
        i += 1;
        continue;
      }
      if (literal !== '') tokens.push({ kind: 'text', text: literal });
      literal = '';
      tokens.push({ kind: 'placeholder', name: text.slice(i + 1, close), offset: i, length: close + 1 - i });
      i = close + 1;
      continue;
    }
    literal += c;
    i += 1;
  }
  if (literal !== '') tokens.push({ kind: 'text', text: literal });
  return { tokens, problems };
}

/** Index of the "}" ending a placeholder opened before `from`, or -1; a placeholder is one line. */
function findClose(text: string, from: number): number {
  for (let i = from; i < text.length; i += 1) {
    const c = text[i];
    if (c === '}') return i;
    if (c === '{' || c === '\n' || c === '\r') return -1;
  }
  return -1;
}

/** Every well-formed `{…}` in `text`, known or not, in order; escaped braces are not placeholders. */
export function listPlaceholders(text: string): PlaceholderRef[] {
  return scan(text).tokens.flatMap((token) =>
    token.kind === 'placeholder' ? [{ name: token.name, offset: token.offset, length: token.length }] : [],
  );
}

function isKnown(name: string, variables: ReadonlySet<string>): boolean {
  if (name.startsWith(VARIABLE_PREFIX)) return variables.has(name.slice(VARIABLE_PREFIX.length));
  return (BUILT_IN_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Names people reach for out of habit from other tools. */
const ALIASES: Readonly<Record<string, string>> = {
  displayname: 'author.name',
  display_name: 'author.name',
  user: 'author.handle',
  username: 'author.handle',
  screen_name: 'author.handle',
  screenname: 'author.handle',
  acct: 'author.handle',
  link: 'post.url',
  'watch.name': 'watch',
  'watch.id': 'watch',
};

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("nmae" → "name" is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j += 1) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** The known placeholder `name` was most likely meant to be, if any is close enough. */
function closestPlaceholder(name: string, known: readonly string[]): string | undefined {
  const wanted = name.trim().toLowerCase();
  const alias = ALIASES[wanted];
  if (alias !== undefined) return alias;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const full = candidate.toLowerCase();
    // Also compare with the last segment, so "{name}" suggests {author.name} and "{helpUrl}" {vars.helpUrl}.
    for (const form of [full, full.slice(full.lastIndexOf('.') + 1)]) {
      const distance = editDistance(wanted, form);
      if (distance <= Math.max(1, Math.floor(form.length / 3)) && distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
  }
  return best;
}

function unknownPlaceholderMessage(ref: PlaceholderRef, known: readonly string[]): string {
  const shown = `{${ref.name}}`;
  const suggestion = closestPlaceholder(ref.name, known);
  if (suggestion !== undefined) return `unknown placeholder ${shown}; did you mean {${suggestion}}?`;
  if (ref.name.startsWith(VARIABLE_PREFIX)) {
    const variable = ref.name.slice(VARIABLE_PREFIX.length);
    return `unknown placeholder ${shown}: no variable "${variable}" is defined under variables`;
  }
  return `unknown placeholder ${shown}: use {author.name}, {author.handle}, {post.url}, {watch} or {vars.NAME}`;
}

const AT_SIGN = /[@＠﹫]/u;

/**
 * Problems in a template text, in order: unknown placeholders (with the closest known one suggested),
 * unclosed "{", stray "}", and an at sign written right before an outside value (`@{author.handle}`).
 */
export function checkTemplateText(text: string, variableNames: readonly string[]): TemplateProblem[] {
  const { tokens, problems } = scan(text);
  const variables = new Set(variableNames);
  const known = [...BUILT_IN_PLACEHOLDERS, ...variableNames.map((name) => `${VARIABLE_PREFIX}${name}`)];
  for (const token of tokens) {
    if (token.kind !== 'placeholder') continue;
    if (!isKnown(token.name, variables)) {
      problems.push({
        code: 'unknown-placeholder',
        message: unknownPlaceholderMessage(token, known),
        offset: token.offset,
        length: token.length,
      });
      continue;
    }
    // The value would come out neutralised ("@" + word joiner + name), which is no mention but looks
    // like one; and the reply-to mention is added anyway.
    if (!token.name.startsWith(VARIABLE_PREFIX) && AT_SIGN.test(text[token.offset - 1] ?? '')) {
      problems.push({
        code: 'mention-before-placeholder',
        message: `remove the at sign before {${token.name}}: values from posts are never turned into mentions (X adds the reply-to mention itself and kikimimi prepends it on Mastodon)`,
        offset: token.offset - 1,
        length: token.length + 1,
      });
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

// Line breaks and tabs become a space; other control characters, bidi controls (which would reorder
// the rest of our reply) and the characters X refuses (U+FEFF, U+FFFE, U+FFFF) are dropped.
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/gu;
const DROPPED = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]/gu;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Neutralises mentions in `text`: a {@link MENTION_BREAKER} after every at sign (`@`, `＠`, `﹫`). */
export function neutralizeMentions(text: string): string {
  return text.replace(/[@＠﹫](?!\u2060)/gu, `$&${MENTION_BREAKER}`);
}

/**
 * Makes outside text (a display name, a handle) safe to put into a reply or a Discord message: one
 * line, no control characters, at most `maxLength` grapheme clusters (shortened with "…"), mentions
 * neutralised.
 */
export function sanitizeOutsideText(text: string, maxLength = Number.POSITIVE_INFINITY): string {
  let clean = text
    .toWellFormed()
    .replace(LINE_BREAKS, ' ')
    .replace(DROPPED, '')
    .replace(/ {2,}/gu, ' ')
    .trim();
  if (clean.length > maxLength) {
    const segments = Array.from(graphemes.segment(clean), (s) => s.segment);
    if (segments.length > maxLength) {
      const kept = segments.slice(0, maxLength - 1).join('');
      clean = `${kept.trimEnd()}…`;
    }
  }
  return neutralizeMentions(clean);
}

/**
 * Makes a post URL safe to put into a reply: an http(s) URL, normalised (blanks and control characters
 * percent-encoded), without user info, and with "@" percent-encoded except at the start of a path
 * segment ("/@alice/123", Mastodon's own form, which no mention syntax accepts after "/") unless it
 * spells a broadcast mention. Anything else gives "".
 */
export function sanitizePostUrl(raw: string): string {
  const url = URL.parse(raw.trim());
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) return '';
  url.username = '';
  url.password = '';
  return url.href.replace(/(?<!\/)@/gu, '%40').replace(/\/@(?=(?:everyone|here|someone)\b)/giu, '/%40');
}

function outsideValue(name: string, ctx: RenderContext): string {
  const { author } = ctx.post;
  // A handle that is not a valid account name on the platform is left out, never half-used.
  const bare = author.handle.replace(/^\s*[@＠﹫]+/u, '');
  const handle = isValidHandle(ctx.post.platform, bare) ? sanitizeOutsideText(bare) : '';
  switch (name) {
    case 'author.name':
      return sanitizeOutsideText(author.displayName, MAX_DISPLAY_NAME_LENGTH) || handle;
    case 'author.handle':
      return handle;
    case 'post.url':
      return sanitizePostUrl(ctx.post.url);
    case 'watch':
      return sanitizeOutsideText(ctx.watch.name ?? '') || sanitizeOutsideText(ctx.watch.id);
    default:
      // checkTemplateText has already rejected anything else.
      throw new Error(`unknown placeholder {${name}}`);
  }
}

/**
 * Renders a template for a post. Throws {@link TemplateError} when the text has a problem (an unknown
 * placeholder included, e.g. a variable missing from `ctx.variables`), rather than send a broken reply.
 */
export function renderTemplate(template: Pick<Template, 'text'>, ctx: RenderContext): string {
  const variables = Object.keys(ctx.variables);
  const problems = checkTemplateText(template.text, variables);
  if (problems.length > 0) throw new TemplateError(problems);
  let out = '';
  for (const token of scan(template.text).tokens) {
    if (token.kind === 'text') {
      out += token.text;
    } else if (token.name.startsWith(VARIABLE_PREFIX)) {
      out += ctx.variables[token.name.slice(VARIABLE_PREFIX.length)] ?? '';
    } else {
      const value = outsideValue(token.name, ctx);
      // An at sign left just before by a variable ("{vars.at}{author.handle}") must not become a mention.
      out += AT_SIGN.test(out.at(-1) ?? '') && value !== '' ? `${MENTION_BREAKER}${value}` : value;
    }
  }
  return out;
}

/** What {@link selectTemplates} reads of a template. */
export type SelectableTemplate = Pick<Template, 'platform' | 'category' | 'watches' | 'language'>;

/** The match a template is wanted for. */
export interface TemplateQuery {
  platform: Platform;
  /** Absent: every category. */
  category?: Category | undefined;
  watchId: string;
  /** The post's language as the platform reported it ("en", "en-GB", "ja"); absent or null: unknown. */
  language?: string | null | undefined;
}

/** "en-GB" → "en"; undefined for an unknown language ("und", "zxx", empty). */
export function languageOf(tag: string | null | undefined): string | undefined {
  const primary = tag?.trim().toLowerCase().split(/[-_]/u)[0];
  if (primary === undefined || primary === '' || primary === 'und' || primary === 'zxx') return undefined;
  return primary;
}

/**
 * The templates that apply to a match, best first. A template applies when its platform is the match's
 * or "*" and its `watches` (absent or empty: every watch) include the match's watch. Order: first by
 * language — templates in the post's language, then templates without a language, then those in
 * another language (kept, so there is still something to adapt); all alike when the post's language is
 * unknown — then templates restricted to the watch before unrestricted ones, then configuration order.
 * A template for the platform hides the "*" templates of the same category, language and restriction.
 */
export function selectTemplates<T extends SelectableTemplate>(
  templates: readonly T[],
  query: TemplateQuery,
): T[] {
  const restricted = (t: T) => t.watches !== undefined && t.watches.length > 0;
  const wanted = languageOf(query.language);
  const applicable = templates.filter(
    (t) =>
      (t.platform === query.platform || t.platform === '*') &&
      (query.category === undefined || t.category === query.category) &&
      (!restricted(t) || t.watches?.includes(query.watchId) === true),
  );
  const key = (t: T) => `${restricted(t) ? 'watch' : 'any'}:${t.category}:${languageOf(t.language) ?? ''}`;
  const withOwnPlatform = new Set(applicable.filter((t) => t.platform === query.platform).map(key));
  const languageRank = (t: T) => {
    const language = languageOf(t.language);
    if (wanted === undefined || language === wanted) return 0;
    return language === undefined ? 1 : 2;
  };
  return applicable
    .filter((t) => t.platform !== '*' || !withOwnPlatform.has(key(t)))
    .sort((a, b) => languageRank(a) - languageRank(b) || Number(!restricted(a)) - Number(!restricted(b)));
}

/** The template to propose for a match in `category`: the first of {@link selectTemplates}, if any. */
export function pickTemplate<T extends SelectableTemplate>(
  templates: readonly T[],
  query: TemplateQuery & { category: Category },
): T | undefined {
  return selectTemplates(templates, query)[0];
}
