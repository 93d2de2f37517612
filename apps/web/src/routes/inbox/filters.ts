import { type CaseState, type MatchFilters, type MatchStatus, tables } from '@kikimimi/db';
import { type Intent, intentSchema, type Platform, platformSchema } from '@kikimimi/rules';
import { t } from '../../i18n.ts';
import type { FieldErrors } from '../../layout.ts';
import { type C, decodeCursor } from './shared.ts';

export const STATUSES: readonly MatchStatus[] = tables.MATCH_STATUSES;
export const INTENTS: readonly Intent[] = intentSchema.options;
export const PLATFORMS: readonly Platform[] = platformSchema.options;
export const CASE_STATES: readonly CaseState[] = tables.CASE_STATES;

/** The filter fields, as they appear in the query string (the form's GET, the CSV and the API). */
export const FILTER_FIELDS = [
  'status',
  'case',
  'assignee',
  'platform',
  'intent',
  'watch',
  'escalated',
  'suppressed',
  'surge',
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export interface ParsedFilters {
  readonly filters: MatchFilters;
  /** The valid filters as given, to rebuild links (next page, CSV) and the form. */
  readonly query: Readonly<Partial<Record<FilterField, string>>>;
  readonly before: { readonly createdAt: Date; readonly id: string } | undefined;
  /** Problems next to the filter fields (and `before`/`cursor` for a bad cursor). */
  readonly errors: FieldErrors;
}

const WATCH_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

function yesNo(value: string): boolean | undefined | null {
  if (value === 'true' || value === 'yes' || value === '1') return true;
  if (value === 'false' || value === 'no' || value === '0') return false;
  return null;
}

/**
 * The inbox filters of a request. Blank values mean "any"; a value that cannot be a filter is reported
 * next to its field and ignored (never a 500, never a silently different list). `status` may list
 * several statuses (and `case` several case states) separated by commas (the API). `assignee` is `me`,
 * `nobody` or a console user's id. `surge`: true for members of a surge, false for the others.
 */
export function parseFilters(c: C, cursorParam: 'before' | 'cursor'): ParsedFilters {
  const raw = (name: string) => (c.req.query(name) ?? '').trim();
  const errors: Record<string, string> = {};
  const query: Partial<Record<FilterField, string>> = {};
  const invalid = (field: string) => {
    errors[field] = t(c, 'inbox.filter.invalid');
  };
  let status: MatchStatus | MatchStatus[] | undefined;
  let platform: Platform | undefined;
  let intent: string | undefined;
  let watch: string | undefined;
  let escalated: boolean | undefined;
  let suppressed: boolean | undefined;
  let inSurge: boolean | undefined;
  let caseState: CaseState | CaseState[] | undefined;
  let assignee: MatchFilters['assignee'];

  const statusText = raw('status');
  if (statusText !== '') {
    const list = [...new Set(statusText.split(',').map((s) => s.trim()))];
    if (list.every((s): s is MatchStatus => (STATUSES as readonly string[]).includes(s))) {
      status = list.length === 1 ? list[0] : list;
      query.status = list.join(',');
    } else invalid('status');
  }
  const caseText = raw('case');
  if (caseText !== '') {
    const list = [...new Set(caseText.split(',').map((s) => s.trim()))];
    if (list.every((s): s is CaseState => (CASE_STATES as readonly string[]).includes(s))) {
      caseState = list.length === 1 ? list[0] : list;
      query.case = list.join(',');
    } else invalid('case');
  }
  const assigneeText = raw('assignee');
  if (assigneeText !== '') {
    const user = c.get('user');
    if (assigneeText === 'nobody') assignee = null;
    else if (assigneeText === 'me' && user !== null) assignee = { kind: 'web', id: user.id };
    else if (UUID.test(assigneeText)) assignee = { kind: 'web', id: assigneeText.toLowerCase() };
    if (assignee === undefined) invalid('assignee');
    else query.assignee = assigneeText;
  }
  const platformText = raw('platform');
  if (platformText !== '') {
    if ((PLATFORMS as readonly string[]).includes(platformText)) {
      platform = platformText as Platform;
      query.platform = platformText;
    } else invalid('platform');
  }
  const intentText = raw('intent');
  if (intentText !== '') {
    if ((INTENTS as readonly string[]).includes(intentText)) {
      intent = intentText;
      query.intent = intentText;
    } else invalid('intent');
  }
  const watchText = raw('watch');
  if (watchText !== '') {
    if (WATCH_ID.test(watchText)) {
      watch = watchText;
      query.watch = watchText;
    } else invalid('watch');
  }
  for (const field of ['escalated', 'suppressed', 'surge'] as const) {
    const text = raw(field);
    if (text === '') continue;
    const value = yesNo(text);
    if (value === null || value === undefined) {
      invalid(field);
      continue;
    }
    query[field] = String(value);
    if (field === 'escalated') escalated = value;
    else if (field === 'suppressed') suppressed = value;
    else inSurge = value;
  }

  let before: ParsedFilters['before'];
  const cursorText = raw(cursorParam);
  if (cursorText !== '') {
    const cursor = decodeCursor(cursorText);
    if (cursor !== null && UUID.test(cursor.id)) before = { createdAt: cursor.at, id: cursor.id };
    else errors[cursorParam] = t(c, 'inbox.filter.badCursor');
  }

  const filters: MatchFilters = {
    ...(status === undefined ? {} : { status }),
    ...(platform === undefined ? {} : { platform }),
    ...(intent === undefined ? {} : { intent }),
    ...(watch === undefined ? {} : { watch }),
    ...(escalated === undefined ? {} : { escalated }),
    ...(suppressed === undefined ? {} : { suppressed }),
    ...(inSurge === undefined ? {} : { inSurge }),
    ...(caseState === undefined ? {} : { caseState }),
    ...(assignee === undefined ? {} : { assignee }),
  };
  return { filters, query, before, errors };
}

/** A query string of the filters (and extra parameters), for links. */
export function filterQuery(
  query: Readonly<Partial<Record<FilterField, string>>>,
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const value = query[field];
    if (value !== undefined) params.set(field, value);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
