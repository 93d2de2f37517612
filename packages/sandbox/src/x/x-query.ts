import {
  createMatcher,
  type PreparedPost,
  parseQuery,
  type QueryErrorCode,
  QuerySyntaxError,
} from '@kikimimi/rules';
import type { XSandboxTweet, XSandboxUser } from './x-store.ts';

/**
 * X's recent-search query language as the stand-in evaluates it. The structure is X's: blanks are AND,
 * `OR` (upper case) binds looser than AND, `-` negates, parentheses group. Operators about a post's
 * place in a conversation are evaluated here: `conversation_id:`, `in_reply_to_tweet_id:` (alias
 * `in_reply_to_status_id:`), `to:` and `from:` (a username or a user id), and the conjunction-required
 * `is:reply`, `is:retweet`, `is:quote` and `lang:`. Every other atom — words, "phrases", #tags,
 * @mentions, `url:` — goes to kikimimi's own matcher, so the stand-in still finds Japanese text the way
 * a real search would. As on X, a query must have something positive to look for besides
 * conjunction-required operators and negations.
 */
export interface XQuery {
  matches(tweet: XSandboxTweet): boolean;
}

/** What the evaluator needs from the store. */
export interface XQueryContext {
  user(id: string): XSandboxUser | undefined;
  /** The post as kikimimi's matcher sees it. */
  prepare(tweet: XSandboxTweet): PreparedPost;
}

type Node =
  | { readonly type: 'and' | 'or'; readonly children: readonly Node[] }
  | { readonly type: 'not'; readonly child: Node }
  | { readonly type: 'conversation' | 'replyTo'; readonly id: string }
  | { readonly type: 'to' | 'from'; readonly user: string }
  | { readonly type: 'is'; readonly what: 'reply' | 'retweet' | 'quote' }
  | { readonly type: 'lang'; readonly lang: string }
  | { readonly type: 'text'; readonly key: string; readonly source: string };

const ID = /^\d{1,19}$/u;
// X's usernames have at most 15 characters, but older and reserved ones are longer; any name is looked up.
const USER = /^[A-Za-z0-9_]{1,50}$/u;
const OWN_OPERATORS: Record<string, 'conversation' | 'replyTo' | 'to' | 'from'> = {
  conversation_id: 'conversation',
  in_reply_to_tweet_id: 'replyTo',
  in_reply_to_status_id: 'replyTo',
  to: 'to',
  from: 'from',
};

type Token =
  | { readonly kind: '(' | ')' | '-' | 'OR'; readonly at: number }
  | { readonly kind: 'atom'; readonly text: string; readonly at: number };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const blank = (c: string) => /\s/u.test(c);
  while (i < query.length) {
    const c = query.charAt(i);
    if (blank(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, at: i });
      i++;
      continue;
    }
    // A leading '-' negates what follows it directly; "a-b" stays one word.
    if (c === '-' && i + 1 < query.length && !blank(query.charAt(i + 1))) {
      tokens.push({ kind: '-', at: i });
      i++;
      continue;
    }
    const start = i;
    let quoted = false;
    while (i < query.length) {
      const d = query.charAt(i);
      if (d === '"') quoted = !quoted;
      else if (!quoted && (blank(d) || d === '(' || d === ')')) break;
      i++;
    }
    if (quoted)
      throw new QuerySyntaxError('unclosed_quote', `a quote is not closed at position ${start}`, start, 0);
    const text = query.slice(start, i);
    tokens.push(text === 'OR' ? { kind: 'OR', at: start } : { kind: 'atom', text, at: start });
  }
  return tokens;
}

/** Parses an X query; a `QuerySyntaxError` names what is wrong and where. */
export function compileXQuery(query: string, context: XQueryContext): XQuery {
  const tokens = tokenize(query);
  const texts: Array<{ key: string; source: string }> = [];
  let position = 0;
  const fail = (code: QueryErrorCode, message: string, at: number): never => {
    throw new QuerySyntaxError(code, `${message} at position ${at}`, at, 0);
  };

  const atom = (text: string, at: number): Node => {
    const lower = text.toLowerCase();
    if (lower === 'is:reply' || lower === 'is:retweet' || lower === 'is:quote') {
      return { type: 'is', what: lower.slice(3) as 'reply' | 'retweet' | 'quote' };
    }
    if (lower.startsWith('lang:')) {
      const lang = lower.slice(5);
      if (!/^[a-z]{2,3}(?:-[a-z0-9]+)?$/u.test(lang))
        fail('bad_operand', `"${text}" needs a language code`, at);
      return { type: 'lang', lang };
    }
    const colon = text.indexOf(':');
    const operator = colon > 0 ? OWN_OPERATORS[text.slice(0, colon).toLowerCase()] : undefined;
    if (operator !== undefined) {
      const value = text.slice(colon + 1).replace(/^"(.*)"$/u, '$1');
      if (operator === 'conversation' || operator === 'replyTo') {
        if (!ID.test(value)) fail('bad_operand', `"${text}" needs a post id`, at);
        return { type: operator, id: value };
      }
      const user = value.replace(/^@/u, '');
      if (!USER.test(user)) fail('bad_operand', `"${text}" needs a username or a user id`, at);
      return { type: operator, user: user.toLowerCase() };
    }
    // Checked now, so that a bad atom is a 400 before any post is looked at.
    parseQuery(text);
    const key = String(texts.length);
    texts.push({ key, source: text });
    return { type: 'text', key, source: text };
  };

  const primary = (): Node => {
    const token = tokens[position];
    if (token === undefined) return fail('dangling_or', 'the query ends too early', query.length);
    if (token.kind === '(') {
      position++;
      const inner = or();
      if (tokens[position]?.kind !== ')') fail('unclosed_paren', 'a parenthesis is not closed', token.at);
      position++;
      return inner;
    }
    if (token.kind === '-') {
      position++;
      return { type: 'not', child: primary() };
    }
    if (token.kind === 'atom') {
      position++;
      return atom(token.text, token.at);
    }
    return fail(
      token.kind === ')' ? 'unexpected_paren' : 'dangling_or',
      `unexpected "${token.kind}"`,
      token.at,
    );
  };

  const and = (): Node => {
    const children: Node[] = [primary()];
    while (position < tokens.length) {
      const next = tokens[position] as Token;
      if (next.kind === 'OR' || next.kind === ')') break;
      children.push(primary());
    }
    return children.length === 1 ? (children[0] as Node) : { type: 'and', children };
  };

  const or = (): Node => {
    const children: Node[] = [and()];
    while (tokens[position]?.kind === 'OR') {
      position++;
      children.push(and());
    }
    return children.length === 1 ? (children[0] as Node) : { type: 'or', children };
  };

  if (tokens.length === 0) fail('empty_query', 'the query is empty', 0);
  const root = or();
  if (position < tokens.length) fail('unexpected_paren', 'unexpected ")"', (tokens[position] as Token).at);
  const positive = (node: Node): boolean => {
    switch (node.type) {
      case 'and':
        return node.children.some(positive);
      case 'or':
        return node.children.every(positive);
      case 'not':
      case 'is':
      case 'lang':
        return false;
      default:
        return true;
    }
  };
  if (!positive(root))
    fail(
      'no_positive_term',
      'the query needs a standalone operator or a term: is:, lang: and negations cannot stand alone',
      0,
    );

  // All text atoms in one automaton: one pass over a post answers every one of them.
  const matcher = createMatcher(texts.map((t) => ({ key: t.key, ast: parseQuery(t.source) })));

  return {
    matches(tweet) {
      let textHits: Set<string> | undefined;
      const author = () => context.user(tweet.authorId);
      const isUser = (user: XSandboxUser | undefined, wanted: string) =>
        user !== undefined && (user.id === wanted || user.username.toLowerCase() === wanted);
      const evaluate = (node: Node): boolean => {
        switch (node.type) {
          case 'and':
            return node.children.every(evaluate);
          case 'or':
            return node.children.some(evaluate);
          case 'not':
            return !evaluate(node.child);
          // The post that starts a conversation carries its own id as conversation_id, but the operator
          // finds the replies in it (docs.x.com: "returns all replies to the original post").
          case 'conversation':
            return tweet.conversationId === node.id && tweet.id !== node.id;
          case 'replyTo':
            return tweet.referencedTweets.some((r) => r.type === 'replied_to' && r.id === node.id);
          case 'from':
            return isUser(author(), node.user);
          case 'to':
            return tweet.inReplyToUserId !== null && isUser(context.user(tweet.inReplyToUserId), node.user);
          case 'is': {
            const type =
              node.what === 'reply' ? 'replied_to' : node.what === 'retweet' ? 'retweeted' : 'quoted';
            return tweet.referencedTweets.some((r) => r.type === type);
          }
          case 'lang':
            return tweet.lang === node.lang || tweet.lang.startsWith(`${node.lang}-`);
          case 'text':
            textHits ??= new Set(matcher.match(context.prepare(tweet)));
            return textHits.has(node.key);
        }
      };
      return evaluate(root);
    },
  };
}
