import type { MatchFilters, MatchRecord, Repositories } from '@kikimimi/db';

/*
 * CSV of matches for spreadsheets: RFC 4180 quoting, CRLF line ends, a UTF-8 byte order mark so that
 * Excel reads Japanese as UTF-8, and cells that a spreadsheet would take for a formula (= + - @, and
 * tab / carriage return which some treat the same) prefixed with an apostrophe: post texts and display
 * names come from strangers (OWASP "CSV injection"). Blanks and line breaks before such a character
 * do not hide it.
 */

export const CSV_COLUMNS = [
  'id',
  'created_at',
  'platform',
  'status',
  'priority',
  'escalated',
  'suppressed',
  'suppression_reasons',
  'watches',
  'intent',
  'category',
  'author_handle',
  'author_name',
  'author_followers',
  'post_url',
  'post_created_at',
  'post_text',
  'first_response_at',
  'surge_id',
] as const;

/** A formula start, also after leading blanks or line breaks (spreadsheets skip them when they parse). */
const FORMULA_START = /^[\s\p{Zs}]*[=+\-@]|^[\t\r]/u;

/** One cell: neutralised if it could start a formula, quoted if it holds a quote, comma or line break. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/u.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: ReadonlyArray<string | number | boolean | null | undefined>) =>
  `${cells.map(csvCell).join(',')}\r\n`;

export function matchCells(m: MatchRecord): Array<string | number | boolean | null> {
  return [
    m.id,
    m.createdAt.toISOString(),
    m.platform,
    m.status,
    m.priority,
    m.escalated,
    m.suppressed,
    m.decision.suppression.reasons.join(' '),
    m.decision.watches.join(' '),
    m.decision.intent,
    m.decision.category,
    m.post.author.handle,
    m.post.author.displayName,
    m.post.author.followers,
    m.post.url,
    m.post.createdAt,
    m.post.text,
    m.firstResponseAt?.toISOString() ?? null,
    m.surgeId ?? null,
  ];
}

/** Rows per database page while streaming. */
const PAGE = 500;
/** A safety bound on one export. */
export const MAX_CSV_ROWS = 200_000;

/**
 * The matches under `filters`, newest first, as a stream: one keyset page at a time, so that memory
 * stays flat whatever the export's size.
 */
export function matchesCsv(repos: Repositories, filters: MatchFilters): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: { createdAt: Date; id: string } | undefined;
  let sent = 0;
  let headerDone = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerDone) {
        headerDone = true;
        controller.enqueue(encoder.encode(`\uFEFF${csvLine(CSV_COLUMNS)}`));
        return;
      }
      const page = await repos.matches.list(filters, { limit: PAGE, ...(before ? { before } : {}) });
      if (page.length > 0) {
        controller.enqueue(encoder.encode(page.map((m) => csvLine(matchCells(m))).join('')));
        sent += page.length;
        const last = page[page.length - 1] as MatchRecord;
        before = { createdAt: last.createdAt, id: last.id };
      }
      if (page.length < PAGE || sent >= MAX_CSV_ROWS) controller.close();
    },
  });
}
