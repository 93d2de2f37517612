import { html } from 'hono/html';
import { t } from '../../i18n.ts';
import { page } from '../../layout.ts';
import type { ActionOutcome } from './actions.ts';
import { type C, label } from './shared.ts';

/*
 * Bulk dismiss and bulk assign of the inbox's selected rows: each match goes through the desk on its
 * own (the same path as its own button), one outcome per row — a match someone else handled meanwhile
 * is refused with its reason while the others are done.
 */

export const BULK_ACTIONS = ['dismiss', 'assign'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** Rows per bulk request (a page of the inbox holds 50). */
export const MAX_BULK = 200;

export interface BulkResult {
  readonly id: string;
  readonly outcome: ActionOutcome;
}

/** Runs `one` for each distinct id, one after the other (each is a transaction of its own). */
export async function runBulk(
  one: (id: string, input: Record<string, unknown>) => Promise<ActionOutcome>,
  ids: readonly string[],
  input: Record<string, unknown>,
): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (const id of new Set(ids)) results.push({ id, outcome: await one(id, input) });
  return results;
}

/** The outcome of each row, with links back to the matches and the inbox. */
export function bulkPage(c: C, results: readonly BulkResult[]) {
  const ok = results.filter((r) => r.outcome.ok).length;
  const failed = results.length - ok;
  return page(c, {
    title: t(c, 'inbox.bulk.resultTitle'),
    flash: {
      kind: failed === 0 ? 'ok' : 'error',
      text: t(c, 'inbox.bulk.summary', { ok, failed }),
    },
    active: 'inbox',
    body: html`<table id="bulk-results"><thead><tr><th>${t(c, 'inbox.bulk.match')}</th><th>${t(c, 'inbox.bulk.outcome')}</th></tr></thead>
<tbody>${results.map(({ id, outcome }) =>
      outcome.ok
        ? html`<tr data-result="ok" data-id="${id}"><td><a href="/inbox/${outcome.match.id}">@${outcome.match.post.author.handle}</a> <small class="muted">${label(c, 'inbox.status', outcome.match.status)}</small></td><td class="ok">${t(c, `inbox.done.${outcome.kind}`)}</td></tr>`
        : html`<tr data-result="${outcome.error}" data-id="${id}"><td>${/^[0-9a-f-]{36}$/iu.test(id) ? html`<a href="/inbox/${id}">${id}</a>` : id}</td><td class="error">${outcome.message}</td></tr>`,
    )}</tbody></table>
<p><a href="/inbox">${t(c, 'inbox.detail.back')}</a></p>`,
  });
}
