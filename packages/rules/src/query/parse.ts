/**
 * The kikimimi query language: a parser from text to `QueryNode`, and a printer back.
 *
 * The syntax follows X's search syntax so that users feel at home (see packages/rules/README.md, "Query language").
 * Safety first: the length is checked before anything else, parentheses are counted against a depth
 * limit before recursing, and every failure is a `QuerySyntaxError` with an offset into the input.
 */

import { normalizeTag, normalizeText, splitUrls } from '../normalize.ts';
import type {
  AndNode,
  AtomNode,
  FilterNode,
  IsNode,
  OrNode,
  QueryNode,
  TagNode,
  TextNode,
} from '../query-ast.ts';
import { type QueryErrorCode, QuerySyntaxError } from './errors.ts';

/** Longest accepted query, in UTF-16 code units (the same limit as the configuration schema). */
export const MAX_QUERY_LENGTH = 2000;

/** Deepest accepted nesting of parentheses. */
export const MAX_QUERY_DEPTH = 32;

/** The outcome of `tryParseQuery`. */
export type ParseQueryResult =
  | { readonly ok: true; readonly ast: QueryNode }
  | { readonly ok: false; readonly error: QuerySyntaxError };

const OPERATORS = ['lang', 'from', 'is', 'url'] as const;
type OperatorName = (typeof OPERATORS)[number];

const OPERATOR_LIST = 'lang:, from:, is:, url:';

// X operators users may bring along from X's search box; they get a specific hint instead of a guess.
const X_ONLY_OPERATORS = new Set([
  'bio',
  'bio_location',
  'bio_name',
  'bounding_box',
  'context',
  'conversation_id',
  'entity',
  'filter',
  'followers_count',
  'geocode',
  'has',
  'in_reply_to_tweet_id',
  'list',
  'max_id',
  'min_faves',
  'min_replies',
  'min_retweets',
  'near',
  'place',
  'place_country',
  'point_radius',
  'quotes_of_tweet_id',
  'retweets_of',
  'retweets_of_tweet_id',
  'sample',
  'since',
  'since_id',
  'since_time',
  'source',
  'to',
  'until',
  'until_time',
  'within',
]);

// ---------------------------------------------------------------------------------------------
// Characters. Syntax characters are recognised in their ASCII form, their full-width form
// (U+FF01–FF5E, which NFKC maps to ASCII) and a few look-alikes that keyboards and IMEs produce.

/** Full-width ASCII variants read as their ASCII counterparts, as NFKC would. */
function fold(c: number): number {
  return c >= 0xff01 && c <= 0xff5e ? c - 0xfee0 : c;
}

function foldString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += String.fromCharCode(fold(text.charCodeAt(i)));
  return out;
}

/** Word separators: the whitespace `normalizeText` turns into a space. */
function isSeparator(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Whitespace, or a character normalisation deletes (zero-width space, BOM, …): skipped between tokens. */
function isBlankAt(query: string, i: number): boolean {
  const c = query.charCodeAt(i);
  if (isSeparator(c)) return true;
  if (c < 0x80 || (c >= 0xd800 && c <= 0xdfff)) return false;
  return normalizeText(query.charAt(i)) === '';
}

// Straight, full-width, curly and low-9 double quotes, and the Japanese double-prime quotes 〝〞〟:
// any of them opens a phrase and any of them closes it, so “smart quotes” and mixed pairs just work.
const DOUBLE_QUOTES = new Set([0x22, 0xff02, 0x201c, 0x201d, 0x201e, 0x201f, 0x301d, 0x301e, 0x301f]);
const CORNER_OPEN = 0x300c; // 「
const CORNER_CLOSE = 0x300d; // 」
const HALF_CORNER_OPEN = 0xff62; // ｢
const HALF_CORNER_CLOSE = 0xff63; // ｣
const WHITE_CORNER_OPEN = 0x300e; // 『
const WHITE_CORNER_CLOSE = 0x300f; // 』

function isQuoteOpener(c: number): boolean {
  return DOUBLE_QUOTES.has(c) || c === CORNER_OPEN || c === HALF_CORNER_OPEN || c === WHITE_CORNER_OPEN;
}

function isStrayCloser(c: number): boolean {
  return c === CORNER_CLOSE || c === HALF_CORNER_CLOSE || c === WHITE_CORNER_CLOSE;
}

function closerOf(open: number): string {
  if (open === CORNER_OPEN || open === HALF_CORNER_OPEN) return '」';
  if (open === WHITE_CORNER_OPEN) return '』';
  return '"';
}

function isCloserFor(open: number, c: number): boolean {
  if (open === CORNER_OPEN || open === HALF_CORNER_OPEN) return c === CORNER_CLOSE || c === HALF_CORNER_CLOSE;
  if (open === WHITE_CORNER_OPEN) return c === WHITE_CORNER_CLOSE;
  return DOUBLE_QUOTES.has(c);
}

function isOpenParen(c: number): boolean {
  return fold(c) === 0x28;
}

function isCloseParen(c: number): boolean {
  return fold(c) === 0x29;
}

/** Hyphen-minus, its full-width form, and U+2212 MINUS SIGN (what some keyboards type for "-"). */
function isMinus(c: number): boolean {
  return fold(c) === 0x2d || c === 0x2212;
}

function isWordChar(c: number): boolean {
  return !isSeparator(c) && !isOpenParen(c) && !isCloseParen(c) && !isQuoteOpener(c) && !isStrayCloser(c);
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

// Letters, marks, digits and the extra characters twitter-text allows in hashtags (its zero-width
// joiners are accepted separately, as characters normalisation removes).
const HASHTAG_CHAR =
  /^[\p{L}\p{M}\p{Nd}_\uff3f\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7]$/u;

// X handles, Mastodon usernames, optionally with @instance.
const HANDLE = /^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?(?:@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+)?$/u;

// ---------------------------------------------------------------------------------------------
// Errors

function fail(code: QueryErrorCode, message: string, offset: number, length: number): never {
  throw new QuerySyntaxError(code, message, offset, length);
}

/** Quotes a piece of the query for a message, shortened when long. */
function show(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 39)}…` : text;
  return `“${short}”`;
}

/** Optimal string alignment distance (edits and adjacent transpositions), for "did you mean". */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 40) return undefined;
  const limit = word.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `url:` followed by what X's url: operator would match for a link found in a term. */
function urlSuggestion(url: string): string {
  const bare = url
    .replace(/^https?:\/\//iu, '')
    .replace(/^www\./iu, '')
    .replace(/\/$/u, '');
  return `url:${formatOperand(bare === '' ? url : bare)}`;
}

function rejectUrls(text: string, offset: number, length: number): void {
  const url = splitUrls(text).urls[0];
  if (url === undefined) return;
  fail(
    'url_term',
    `${show(text)} contains the link ${show(url)}, but words and phrases never match text inside links. ` +
      `Use ${urlSuggestion(url)} to find posts linking there.`,
    offset,
    length,
  );
}

// ---------------------------------------------------------------------------------------------
// Lexer

type Token =
  | {
      readonly kind: 'open' | 'close' | 'or' | 'and' | 'minus' | 'end';
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: 'atom'; readonly start: number; readonly end: number; readonly node: AtomNode };

function lex(query: string): Token[] {
  const tokens: Token[] = [];
  const n = query.length;
  let i = 0;
  for (;;) {
    while (i < n && isBlankAt(query, i)) i++;
    if (i >= n) break;
    const c = query.charCodeAt(i);
    if (isOpenParen(c)) {
      tokens.push({ kind: 'open', start: i, end: i + 1 });
      i++;
    } else if (isCloseParen(c)) {
      tokens.push({ kind: 'close', start: i, end: i + 1 });
      i++;
    } else if (isStrayCloser(c)) {
      fail(
        'unexpected_quote',
        `${show(query.charAt(i))} closes a quotation that was never opened. Remove it, or put the text ` +
          `containing it in double quotes to search for the bracket itself.`,
        i,
        1,
      );
    } else if (isMinus(c)) {
      checkMinus(query, i);
      tokens.push({ kind: 'minus', start: i, end: i + 1 });
      i++;
    } else if (isQuoteOpener(c)) {
      const node = lexPhrase(query, i);
      tokens.push({ kind: 'atom', start: node.start, end: node.end, node });
      i = node.end;
    } else {
      i = lexWord(query, i, tokens);
    }
  }
  tokens.push({ kind: 'end', start: n, end: n });
  return tokens;
}

/** A minus at the start of a token negates; it must touch what it negates. */
function checkMinus(query: string, i: number): void {
  const next = i + 1;
  if (next >= query.length || isBlankAt(query, next) || isCloseParen(query.charCodeAt(next))) {
    fail(
      'dangling_negation',
      `A minus sign must be directly followed by what it excludes, e.g. -word, -"a phrase", -(a OR b) or ` +
        `-from:name. Remove the space after it, or remove it.`,
      i,
      1,
    );
  }
  if (isMinus(query.charCodeAt(next))) {
    fail(
      'double_negation',
      `${show(query.slice(i, next + 1))}: two minus signs in a row. Use a single - to exclude; to search ` +
        `for text that starts with dashes, put it in quotes ("--like-this").`,
      i,
      2,
    );
  }
}

function findCloser(query: string, open: number): number {
  const opener = query.charCodeAt(open);
  for (let j = open + 1; j < query.length; j++) {
    if (isCloserFor(opener, query.charCodeAt(j))) return j;
  }
  return -1;
}

function unclosedQuote(query: string, open: number): never {
  return fail(
    'unclosed_quote',
    `This ${show(query.charAt(open))} starts a phrase that is never closed. Add a closing ` +
      `${closerOf(query.charCodeAt(open))} after the phrase, or remove it.`,
    open,
    1,
  );
}

function lexPhrase(query: string, open: number): TextNode {
  const close = findCloser(query, open);
  if (close < 0) unclosedQuote(query, open);
  const raw = query.slice(open + 1, close);
  const normalized = normalizeText(raw);
  if (normalized === '') {
    fail(
      'empty_phrase',
      `The phrase ${query.slice(open, close + 1)} is empty. Put the words to search for between the quotes, or remove it.`,
      open,
      close + 1 - open,
    );
  }
  rejectUrls(raw, open, close + 1 - open);
  return { type: 'phrase', raw, normalized, start: open, end: close + 1 };
}

/** Lexes a run of word characters (a term, tag, keyword or operator); returns where lexing continues. */
function lexWord(query: string, start: number, tokens: Token[]): number {
  const n = query.length;
  let end = start;
  while (end < n && isWordChar(query.charCodeAt(end))) end++;
  const word = query.slice(start, end);
  const first = fold(query.charCodeAt(start));

  if (first === 0x23 || first === 0x40) {
    const node = lexTag(query, start, end);
    tokens.push({ kind: 'atom', start, end, node });
    return end;
  }

  const keyword = foldString(word);
  if (keyword === 'OR' || keyword === 'AND') {
    tokens.push({ kind: keyword === 'OR' ? 'or' : 'and', start, end });
    return end;
  }
  if (keyword === 'NOT') {
    fail(
      'not_keyword',
      `NOT is not an operator: to exclude something, put a minus sign directly before it (-word, -(a OR b)). ` +
        `To search for the word "not", write it in lower case or in quotes.`,
      start,
      end - start,
    );
  }

  // An operator is an ASCII word (letters and _) immediately followed by a colon.
  let colon = start;
  if (isAsciiLetter(first)) {
    while (
      colon < end &&
      (isAsciiLetter(fold(query.charCodeAt(colon))) || fold(query.charCodeAt(colon)) === 0x5f)
    ) {
      colon++;
    }
  }
  if (colon > start && colon < end && fold(query.charCodeAt(colon)) === 0x3a) {
    const next = lexOperator(query, start, colon, end, tokens);
    if (next !== undefined) return next;
  }

  rejectUrls(word, start, end - start);
  const normalized = normalizeText(word);
  // Unreachable: a word starts with a character that survives normalisation. Kept as a guard.
  if (normalized === '') fail('internal_error', `Could not read ${show(word)}.`, start, end - start);
  tokens.push({ kind: 'atom', start, end, node: { type: 'term', raw: word, normalized, start, end } });
  return end;
}

interface Operand {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

/** Lexes `name:operand`; returns undefined when the word is an ordinary term after all (`note:`). */
function lexOperator(
  query: string,
  start: number,
  colon: number,
  end: number,
  tokens: Token[],
): number | undefined {
  const name = foldString(query.slice(start, colon)).toLowerCase();
  const afterColon = colon + 1;
  let operand: Operand | undefined;
  if (afterColon < end) {
    operand = { text: query.slice(afterColon, end), start: afterColon, end, quoted: false };
  } else if (end < query.length && isQuoteOpener(query.charCodeAt(end))) {
    const close = findCloser(query, end);
    if (close < 0) unclosedQuote(query, end);
    operand = { text: query.slice(end + 1, close), start: end, end: close + 1, quoted: true };
  }

  if ((OPERATORS as readonly string[]).includes(name)) {
    const operator = name as OperatorName;
    if (operand === undefined) {
      const spaced = afterColon < query.length && isBlankAt(query, afterColon);
      fail(
        'bad_operand',
        `${operator}: needs a value right after the colon${spaced ? ', without a space' : ''}, e.g. ` +
          `${EXAMPLES[operator]}.`,
        start,
        afterColon - start,
      );
    }
    const node = operatorNode(operator, operand, start);
    tokens.push({ kind: 'atom', start, end: operand.end, node });
    return operand.end;
  }

  if (operand === undefined) return undefined;
  const written = query.slice(start, operand.end);
  if (name === 'http' || name === 'https') {
    fail(
      'url_term',
      `${show(written)} is a link, but words never match text inside links. Use ` +
        `${urlSuggestion(written)} to find posts linking there.`,
      start,
      operand.end - start,
    );
  }
  fail(
    'unknown_operator',
    unknownOperatorMessage(name, query.slice(start, afterColon), operand, written),
    start,
    afterColon - start,
  );
}

const EXAMPLES: Record<OperatorName, string> = {
  lang: 'lang:ja',
  from: 'from:booklog_jp',
  is: 'is:reply or is:repost',
  url: 'url:booklog.jp',
};

function unknownOperatorMessage(name: string, display: string, operand: Operand, written: string): string {
  const value = foldString(operand.text).toLowerCase();
  let hint: string;
  if (name === 'filter' && (value === 'replies' || value === 'retweets' || value === 'nativeretweets')) {
    hint = `Use ${value === 'replies' ? 'is:reply' : 'is:repost'} instead (and -${value === 'replies' ? 'is:reply' : 'is:repost'} to exclude). `;
  } else if (name === 'to') {
    hint = 'to: is an X operator kikimimi does not support; to find posts mentioning an account, use @name. ';
  } else if (X_ONLY_OPERATORS.has(name)) {
    hint = `${name}: is an X operator kikimimi does not support. `;
  } else {
    const suggestion = closest(name, OPERATORS);
    hint = suggestion === undefined ? '' : `Did you mean ${suggestion}:? `;
  }
  const literal = operand.quoted ? '' : ` To search for the text itself, put it in quotes: "${written}".`;
  return `Unknown operator ${show(display)}. ${hint}Known operators: ${OPERATOR_LIST}.${literal}`;
}

/** NFKC, lower case, without the invisible characters copy-paste brings along (which would garble messages). */
function operandValue(text: string): string {
  let value = '';
  for (const ch of text.normalize('NFKC').toLowerCase()) {
    if (isSeparator(ch.charCodeAt(0)) || normalizeText(ch) !== '') value += ch;
  }
  return value.trim();
}

function operatorNode(operator: OperatorName, operand: Operand, start: number): FilterNode | IsNode {
  const value = operandValue(operand.text);
  const end = operand.end;
  const bad = (message: string): never =>
    fail('bad_operand', message, operand.start, Math.max(1, operand.end - operand.start));
  if (value === '') bad(`${operator}: needs a value, e.g. ${EXAMPLES[operator]}.`);
  switch (operator) {
    case 'lang': {
      if (/^[a-z]{2,3}$/u.test(value)) return { type: 'lang', value, start, end };
      const base = /^([a-z]{2,3})[-_]/u.exec(value)?.[1];
      return bad(
        `${show(operand.text)} is not a language code: lang: takes a 2- or 3-letter ISO 639 code such as ` +
          `lang:ja or lang:en${base === undefined ? '' : `. Regions are not supported (as on X): use lang:${base}`}.`,
      );
    }
    case 'from': {
      const handle = value.startsWith('@') ? value.slice(1) : value;
      if (HANDLE.test(handle)) return { type: 'from', value: handle, start, end };
      return bad(
        `${show(operand.text)} is not an account handle. from: takes a handle with or without @: ` +
          `from:booklog_jp, or on Mastodon from:name@instance.example.`,
      );
    }
    case 'is': {
      if (value === 'reply' || value === 'repost') return { type: 'is', value, start, end };
      if (value === 'retweet') return { type: 'is', value: 'repost', start, end };
      const suggestion = closest(value, ['reply', 'repost', 'retweet', 'replies', 'reposts', 'retweets']);
      const mean =
        suggestion === undefined
          ? ''
          : ` Did you mean is:${suggestion.startsWith('repl') ? 'reply' : 'repost'}?`;
      return bad(
        `is: takes reply or repost (is:retweet means the same as is:repost), not ${show(operand.text)}.${mean}`,
      );
    }
    case 'url': {
      if (/[\s]/u.test(value)) {
        return bad(
          `${show(operand.text)} contains a space; url: takes a domain or part of a link, e.g. url:booklog.jp.`,
        );
      }
      return { type: 'url', value, start, end };
    }
  }
}

function lexTag(query: string, start: number, end: number): TagNode {
  const type = fold(query.charCodeAt(start)) === 0x23 ? 'hashtag' : 'mention';
  const sigil = type === 'hashtag' ? '#' : '@';
  const raw = query.slice(start + 1, end);
  const written = query.slice(start, end);
  if (raw === '') {
    fail(
      'bad_tag',
      `${sigil} must be directly followed by the ${type === 'hashtag' ? 'hashtag' : 'account'} name, e.g. ` +
        `${type === 'hashtag' ? '#ブクログ' : '@booklog_jp'}. To search for the character itself, put it in quotes: "${sigil}".`,
      start,
      end - start,
    );
  }
  if (type === 'hashtag') {
    for (const ch of raw) {
      if (!HASHTAG_CHAR.test(ch) && normalizeText(ch) !== '') {
        fail(
          'bad_tag',
          `${show(written)} is not a hashtag: ${show(ch)} cannot be part of one (hashtags are letters, ` +
            `digits and _). To search for the text, put it in quotes: "${written}".`,
          start,
          end - start,
        );
      }
    }
  } else if (!HANDLE.test(normalizeText(raw))) {
    fail(
      'bad_tag',
      `${show(written)} is not a mention: account names are letters a–z, digits and _ (on Mastodon ` +
        `also name@instance.example). To search for the text, put it in quotes: "${written}".`,
      start,
      end - start,
    );
  }
  const normalized = normalizeTag(raw);
  if (normalized === '') {
    fail('bad_tag', `${show(written)} has no visible name after the ${sigil}.`, start, end - start);
  }
  return { type, raw, normalized, start, end };
}

// ---------------------------------------------------------------------------------------------
// Parser: or := and (OR and)* ; and := unary (AND? unary)* ; unary := -? primary ; primary := atom | ( or )

interface Parsed {
  readonly node: QueryNode;
  /** Extent in the query, including parentheses around the node. */
  readonly start: number;
  readonly end: number;
}

function parseTokens(tokens: readonly Token[]): QueryNode {
  const last = tokens[tokens.length - 1] as Token;
  let position = 0;
  const peek = (): Token => tokens[position] ?? last;
  const advance = (): Token => {
    const token = peek();
    if (position < tokens.length - 1) position++;
    return token;
  };

  const danglingOr = (token: Token, where: 'start' | 'end' | 'double'): never =>
    fail(
      'dangling_or',
      where === 'double'
        ? 'Two ORs in a row: remove one (a OR b).'
        : `OR needs something on both sides, but nothing comes ${where === 'start' ? 'before' : 'after'} it. ` +
            `Remove it, or add what is missing (a OR b). To search for the word "or", write it in lower case or in quotes.`,
      token.start,
      token.end - token.start,
    );

  const danglingAnd = (token: Token): never =>
    fail(
      'dangling_and',
      'AND needs something on both sides (and is optional: "a b" already means a AND b). Remove it, or add what is missing.',
      token.start,
      token.end - token.start,
    );

  const unexpectedClose = (token: Token): never =>
    fail(
      'unexpected_paren',
      'This ")" has no matching "(". Remove it, or add a "(" where the group starts.',
      token.start,
      1,
    );

  const combine = (type: 'and' | 'or', items: Parsed[]): Parsed => {
    const first = items[0] as Parsed;
    if (items.length === 1) return first;
    const children: QueryNode[] = [];
    for (const item of items) {
      if (item.node.type === type) children.push(...item.node.children);
      else children.push(item.node);
    }
    const start = first.start;
    const end = (items[items.length - 1] as Parsed).end;
    const node: AndNode | OrNode = { type, children, start, end };
    return { node, start, end };
  };

  const parsePrimary = (depth: number): Parsed => {
    const token = advance();
    switch (token.kind) {
      case 'atom':
        return { node: token.node, start: token.start, end: token.end };
      case 'open': {
        if (depth >= MAX_QUERY_DEPTH) {
          fail(
            'too_deep',
            `Parentheses are nested more than ${MAX_QUERY_DEPTH} deep here. Flatten the query: ` +
              `(a OR (b OR c)) is the same as (a OR b OR c).`,
            token.start,
            1,
          );
        }
        const inside = peek();
        if (inside.kind === 'close') {
          fail(
            'empty_group',
            'Empty parentheses: put something inside them or remove them.',
            token.start,
            inside.end - token.start,
          );
        }
        const unclosed = (): never =>
          fail(
            'unclosed_paren',
            'This "(" is never closed. Add a ")" where the group ends, or remove it.',
            token.start,
            1,
          );
        if (inside.kind === 'end') unclosed();
        const inner = parseOr(depth + 1);
        const close = peek();
        if (close.kind !== 'close') unclosed();
        advance();
        const node =
          inner.node.type === 'and' || inner.node.type === 'or'
            ? { ...inner.node, start: token.start, end: close.end }
            : inner.node;
        return { node, start: token.start, end: close.end };
      }
      case 'close':
        return unexpectedClose(token);
      case 'or':
        return danglingOr(token, 'start');
      case 'and':
        return danglingAnd(token);
      default:
        return fail('internal_error', 'The query ended where a term was expected.', token.start, 0);
    }
  };

  const parseUnary = (depth: number): Parsed => {
    const token = peek();
    if (token.kind !== 'minus') return parsePrimary(depth);
    advance();
    const next = peek();
    if (next.kind === 'or' || next.kind === 'and') {
      const word = next.kind === 'or' ? 'OR' : 'AND';
      fail(
        'dangling_negation',
        `A minus sign cannot exclude ${word}, which is an operator. To exclude the word itself, write ` +
          `-${word.toLowerCase()} or -"${word}".`,
        token.start,
        1,
      );
    }
    const inner = parsePrimary(depth);
    return {
      node: { type: 'not', child: inner.node, start: token.start, end: inner.end },
      start: token.start,
      end: inner.end,
    };
  };

  const parseAnd = (depth: number): Parsed => {
    const items: Parsed[] = [parseUnary(depth)];
    for (;;) {
      const token = peek();
      if (token.kind === 'and') {
        advance();
        const next = peek();
        if (next.kind === 'and') danglingAnd(next);
        if (next.kind === 'end' || next.kind === 'close' || next.kind === 'or') danglingAnd(token);
      } else if (token.kind !== 'atom' && token.kind !== 'minus' && token.kind !== 'open') {
        break;
      }
      items.push(parseUnary(depth));
    }
    return combine('and', items);
  };

  const parseOr = (depth: number): Parsed => {
    const items: Parsed[] = [parseAnd(depth)];
    while (peek().kind === 'or') {
      const or = advance();
      const next = peek();
      if (next.kind === 'end' || next.kind === 'close') danglingOr(or, 'end');
      if (next.kind === 'or') danglingOr(next, 'double');
      items.push(parseAnd(depth));
    }
    return combine('or', items);
  };

  const result = parseOr(0);
  const rest = peek();
  if (rest.kind === 'close') unexpectedClose(rest);
  if (rest.kind !== 'end') fail('internal_error', 'Unexpected text after the query.', rest.start, 1);
  return result.node;
}

// ---------------------------------------------------------------------------------------------
// "No positive term": a query (or one OR alternative) that only excludes or filters matches almost
// every post; X refuses it and it would flood the desk.

/** True when every post the node matches must contain something positive (a word, tag, author or link). */
function requiresPositive(node: QueryNode): boolean {
  switch (node.type) {
    case 'term':
    case 'phrase':
    case 'hashtag':
    case 'mention':
    case 'from':
    case 'url':
      return true;
    case 'lang':
    case 'is':
    case 'not':
      return false;
    case 'and':
      return node.children.some(requiresPositive);
    case 'or':
      return node.children.every(requiresPositive);
  }
}

/** The part of a node (known not to require anything positive) that the user should fix. */
function unboundedPart(node: QueryNode): QueryNode {
  if (node.type === 'or') {
    const part = node.children.find((child) => !requiresPositive(child));
    if (part !== undefined) return unboundedPart(part);
  }
  if (node.type === 'and') {
    // An OR with some positive alternatives is the one to point at: only its other alternatives lack one.
    const partial = node.children.find(
      (child) => child.type === 'or' && child.children.some(requiresPositive),
    );
    if (partial !== undefined) return unboundedPart(partial);
  }
  return node;
}

function checkPositive(query: string, root: QueryNode): void {
  if (requiresPositive(root)) return;
  const part = unboundedPart(root);
  const text = show(query.slice(part.start, part.end));
  const message =
    part === root
      ? `This query has nothing positive to look for: ${text} only excludes or filters, so it would match ` +
        `almost every post (and X refuses such queries). Add a word, "phrase", #hashtag, @mention, from: or url: ` +
        `that posts must contain, e.g. ブクログ -落ちてる rather than only -落ちてる.`
      : `Each alternative of OR needs something positive to look for, but ${text} only excludes or filters, so ` +
        `that alternative alone would match almost every post. Add a word to it, or move it outside the OR ` +
        `group: (a OR b) -c.`;
  fail('no_positive_term', message, part.start, part.end - part.start);
}

// ---------------------------------------------------------------------------------------------
// Public API

function parseChecked(query: string): QueryNode {
  const tokens = lex(query);
  if (tokens.length === 1) {
    fail(
      'empty_query',
      'The query is empty. Write at least one word, e.g. ブクログ or (booklog OR ブクログ) 落ちてる.',
      0,
      query.length,
    );
  }
  const ast = parseTokens(tokens);
  checkPositive(query, ast);
  return ast;
}

/** Parses a query into its AST; throws `QuerySyntaxError` (and nothing else) for any invalid input. */
export function parseQuery(query: string): QueryNode {
  if (typeof query !== 'string') {
    throw new QuerySyntaxError('not_a_string', `A query must be a string, not ${typeof query}.`, 0, 0);
  }
  if (query.length > MAX_QUERY_LENGTH) {
    fail(
      'too_long',
      `The query is ${query.length} characters long; the limit is ${MAX_QUERY_LENGTH}. Split it into several watches.`,
      MAX_QUERY_LENGTH,
      query.length - MAX_QUERY_LENGTH,
    );
  }
  try {
    return parseChecked(query);
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw error;
    // A bug, not the user's fault; still reported as a QuerySyntaxError so callers need one catch.
    const detail = error instanceof Error ? error.message : 'unknown error';
    throw new QuerySyntaxError(
      'internal_error',
      `The query could not be read (internal error: ${detail}).`,
      0,
      0,
      {
        cause: error,
      },
    );
  }
}

/** Parses a query without throwing: the AST, or the `QuerySyntaxError` that `parseQuery` would throw. */
export function tryParseQuery(query: string): ParseQueryResult {
  try {
    return { ok: true, ast: parseQuery(query) };
  } catch (error) {
    if (error instanceof QuerySyntaxError) return { ok: false, error };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Printer

function quote(text: string): string {
  let double = true;
  let corner = true;
  let whiteCorner = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (DOUBLE_QUOTES.has(c)) double = false;
    else if (c === CORNER_CLOSE || c === HALF_CORNER_CLOSE) corner = false;
    else if (c === WHITE_CORNER_CLOSE) whiteCorner = false;
  }
  if (double) return `"${text}"`;
  if (corner) return `「${text}」`;
  if (whiteCorner) return `『${text}』`;
  throw new TypeError(`No quotation marks can enclose ${show(text)}: it contains ", 」 and 』.`);
}

function formatOperand(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (!isWordChar(value.charCodeAt(i))) return quote(value);
  }
  return value === '' ? quote(value) : value;
}

function formatGrouped(node: QueryNode): string {
  return node.type === 'and' || node.type === 'or' ? `(${formatQuery(node)})` : formatQuery(node);
}

/**
 * Prints an AST (as `parseQuery` produces it: flattened, groups of two or more) in canonical syntax:
 * single spaces, implicit AND, upper-case OR, ASCII syntax, only the parentheses precedence needs.
 * `parseQuery(formatQuery(ast))` equals `ast` up to spans (when the output is within the length limit).
 */
export function formatQuery(ast: QueryNode): string {
  switch (ast.type) {
    case 'term':
      return ast.raw;
    case 'phrase':
      return quote(ast.raw);
    case 'hashtag':
      return `#${ast.raw}`;
    case 'mention':
      return `@${ast.raw}`;
    case 'lang':
    case 'from':
    case 'url':
      return `${ast.type}:${formatOperand(ast.value)}`;
    case 'is':
      return `is:${ast.value}`;
    case 'not':
      return `-${ast.child.type === 'not' ? `(${formatQuery(ast.child)})` : formatGrouped(ast.child)}`;
    case 'and':
      return ast.children.map(formatGrouped).join(' ');
    case 'or':
      // Minimal parentheses keep the output no longer than the input in all but contrived cases.
      return ast.children
        .map((child) => (child.type === 'or' ? `(${formatQuery(child)})` : formatQuery(child)))
        .join(' OR ');
  }
}
