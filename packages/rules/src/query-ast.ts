/** Offsets are UTF-16 indexes into the query string, [start, end). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A word or a quoted phrase: matched against the normalised post text. */
export interface TextNode extends Span {
  readonly type: 'term' | 'phrase';
  /** As written in the query (without quotes). */
  readonly raw: string;
  /** Normalised with `normalizeText`, the form that is matched. */
  readonly normalized: string;
}

export interface TagNode extends Span {
  readonly type: 'hashtag' | 'mention';
  /** Without the leading # or @, as written. */
  readonly raw: string;
  /** Normalised, without the leading # or @. */
  readonly normalized: string;
}

export interface FilterNode extends Span {
  readonly type: 'lang' | 'from' | 'url';
  /** Lower-cased operand: a language code, a handle (without @) or a domain/URL fragment. */
  readonly value: string;
}

export interface IsNode extends Span {
  readonly type: 'is';
  readonly value: 'reply' | 'repost';
}

export interface NotNode extends Span {
  readonly type: 'not';
  readonly child: QueryNode;
}

export interface AndNode extends Span {
  readonly type: 'and';
  readonly children: readonly QueryNode[];
}

export interface OrNode extends Span {
  readonly type: 'or';
  readonly children: readonly QueryNode[];
}

export type QueryNode = TextNode | TagNode | FilterNode | IsNode | NotNode | AndNode | OrNode;
export type AtomNode = TextNode | TagNode | FilterNode | IsNode;
