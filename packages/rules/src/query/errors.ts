/** Every `QuerySyntaxError.code`; stable, so callers and translations may key on them. */
export const QUERY_ERROR_CODES = [
  'not_a_string',
  'empty_query',
  'too_long',
  'too_deep',
  'unclosed_quote',
  'unexpected_quote',
  'empty_phrase',
  'unclosed_paren',
  'unexpected_paren',
  'empty_group',
  'dangling_or',
  'dangling_and',
  'dangling_negation',
  'double_negation',
  'not_keyword',
  'unknown_operator',
  'bad_operand',
  'bad_tag',
  'url_term',
  'no_positive_term',
  'internal_error',
] as const;

/** A stable machine-readable reason for a `QuerySyntaxError`. */
export type QueryErrorCode = (typeof QUERY_ERROR_CODES)[number];

/** A query that cannot be parsed: what is wrong, how to fix it, and where (UTF-16 offsets into the query). */
export class QuerySyntaxError extends Error {
  override readonly name = 'QuerySyntaxError';
  /** Stable reason, one of `QUERY_ERROR_CODES`. */
  readonly code: QueryErrorCode;
  /** UTF-16 index of the problem in the query; the query's length when the problem is its end. */
  readonly offset: number;
  /** UTF-16 length of the offending text; 0 when the problem is something missing at `offset`. */
  readonly length: number;

  constructor(code: QueryErrorCode, message: string, offset: number, length: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.offset = offset;
    this.length = length;
  }
}
