import {
  ANSWER_KINDS,
  type AnswerKind,
  type AnswersQuery,
  type CustomerAnswer,
  type EffectFigures,
  type EffectStats,
  type Repositories,
} from '@kikimimi/db';
import { platformSchema } from '@kikimimi/rules';
import { html } from 'hono/html';
import { formatNumber } from '../../format.ts';
import { t } from '../../i18n.ts';
import { fieldError, type Html } from '../../layout.ts';
import { csvLine } from '../inbox/csv.ts';
import { PERIODS, TIME_ZONE_SET, TIME_ZONES } from '../inbox/dashboard.ts';
import {
  type C,
  decodeCursor,
  depsOf,
  durationText,
  encodeCursor,
  timeTag,
  zonedText,
} from '../inbox/shared.ts';
import './messages.ts';

/*
 * The effect of our replies (issue 11 item 4): for the replies sent in a period — by platform, watch
 * and template — how many drew a reaction from the customer (an answer, a like, a repost), how many a
 * positive one (thanks, a like) and how soon; and what customers said back, filterable by the reading
 * of their answer, as a page and a streamed CSV. The figures come from PostgreSQL (stats.ts).
 */

/** The effect page's query, parsed: the period as the dashboard's (days in a time zone), the filters. */
export interface EffectForm {
  readonly days: number;
  readonly timeZone: string;
  readonly platform: string;
  readonly watch: string;
  /** '' any; '-' replies without a template; else a template id. */
  readonly template: string;
  readonly kind: AnswerKind | '';
  readonly before: { readonly at: Date; readonly id: string } | undefined;
  readonly errors: Readonly<Record<string, string>>;
}

const WATCH_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/u;
const TEMPLATE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/u;
/** The template filter's value for "written without a template". */
export const NO_TEMPLATE = '-';

export function parseEffectForm(c: C): EffectForm {
  const raw = (name: string) => (c.req.query(name) ?? '').trim();
  const errors: Record<string, string> = {};
  const invalid = (field: string) => {
    errors[field] = t(c, 'effect.invalid');
  };
  const daysText = raw('days');
  let days = 30;
  if (daysText !== '') {
    const n = Number(daysText);
    if (Number.isInteger(n) && n >= 1 && n <= 366) days = n;
    else invalid('days');
  }
  const tzText = raw('tz');
  let timeZone = c.get('timeZone');
  if (tzText !== '') {
    if (TIME_ZONE_SET.has(tzText)) timeZone = tzText;
    else invalid('tz');
  }
  let platform = raw('platform');
  if (platform !== '' && !platformSchema.safeParse(platform).success) {
    invalid('platform');
    platform = '';
  }
  let watch = raw('watch');
  if (watch !== '' && !WATCH_ID.test(watch)) {
    invalid('watch');
    watch = '';
  }
  let template = raw('template');
  if (template !== '' && template !== NO_TEMPLATE && !TEMPLATE_ID.test(template)) {
    invalid('template');
    template = '';
  }
  let kind = raw('kind') as AnswerKind | '';
  if (kind !== '' && !(ANSWER_KINDS as readonly string[]).includes(kind)) {
    invalid('kind');
    kind = '';
  }
  const beforeText = raw('before') || raw('cursor');
  let before: EffectForm['before'];
  if (beforeText !== '') {
    const decoded = decodeCursor(beforeText);
    if (decoded === null) invalid('before');
    else before = decoded;
  }
  return { days, timeZone, platform, watch, template, kind, before, errors };
}

/** The repository query of a form over `period`. */
export function answersQuery(form: EffectForm, period: { from: Date; to: Date }): AnswersQuery {
  return {
    ...period,
    ...(form.platform === '' ? {} : { platform: form.platform }),
    ...(form.watch === '' ? {} : { watch: form.watch }),
    ...(form.template === '' ? {} : { templateId: form.template === NO_TEMPLATE ? '' : form.template }),
    ...(form.kind === '' ? {} : { kind: form.kind }),
  };
}

/** The form as a query string (links: next page, CSV), without the cursor unless given. */
export function effectQueryString(form: EffectForm, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ days: String(form.days), tz: form.timeZone });
  for (const key of ['platform', 'watch', 'template', 'kind'] as const) {
    if (form[key] !== '') params.set(key, form[key]);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return `?${params.toString()}`;
}

const percent = (rate: number | null, none: string) => (rate === null ? none : `${(rate * 100).toFixed(1)}%`);

function card(title: string, value: string, note: string, id: string) {
  return html`<div class="card" style="margin:0" data-figure="${id}"><div class="muted">${title}</div><div style="font-size:1.8rem;font-weight:700">${value}</div><small class="muted">${note}</small></div>`;
}

/** The four figures of a group of replies as cards. */
export function effectCards(c: C, totals: EffectFigures): Html {
  const lang = c.get('lang');
  const none = t(c, 'effect.none');
  const time = (s: number | null) => (s === null ? none : durationText(lang, s));
  return html`<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem">
${card(t(c, 'effect.sent'), formatNumber(totals.sent), t(c, 'effect.sentNote', { n: formatNumber(totals.followUps) }), 'sent')}
${card(t(c, 'effect.reactionRate'), percent(totals.reactionRate, none), t(c, 'effect.reactionNote', { n: formatNumber(totals.reacted) }), 'reaction-rate')}
${card(t(c, 'effect.positiveRate'), percent(totals.positiveRate, none), t(c, 'effect.positiveNote', { n: formatNumber(totals.positive) }), 'positive-rate')}
${card(t(c, 'effect.time'), time(totals.medianReactionSeconds), t(c, 'effect.timeNote', { p90: time(totals.p90ReactionSeconds) }), 'time-to-reaction')}
</div>`;
}

/** A table of figures per group (platform or template). */
export function figuresTable(
  c: C,
  id: string,
  heading: string,
  rows: ReadonlyArray<{ readonly name: Html | string; readonly figures: EffectFigures }>,
): Html {
  const none = t(c, 'effect.none');
  const lang = c.get('lang');
  if (rows.length === 0) return html`<p class="muted">${t(c, 'effect.noAnswers')}</p>`;
  return html`<table id="${id}"><thead><tr><th scope="col">${heading}</th><th scope="col">${t(c, 'effect.col.sent')}</th><th scope="col">${t(c, 'effect.reactionRate')}</th><th scope="col">${t(c, 'effect.positiveRate')}</th><th scope="col">${t(c, 'effect.col.answered')}</th><th scope="col">${t(c, 'effect.col.liked')}</th><th scope="col">${t(c, 'effect.col.reposted')}</th><th scope="col">${t(c, 'effect.col.median')}</th></tr></thead><tbody>${rows.map(
    ({ name, figures: f }) =>
      html`<tr><th scope="row">${name}</th><td>${formatNumber(f.sent)}</td><td>${percent(f.reactionRate, none)}</td><td>${percent(f.positiveRate, none)}</td><td>${formatNumber(f.answered)}</td><td>${formatNumber(f.liked)}</td><td>${formatNumber(f.reposted)}</td><td>${f.medianReactionSeconds === null ? none : durationText(lang, f.medianReactionSeconds)}</td></tr>`,
  )}</tbody></table>`;
}

export const platformLabel = (platform: string) =>
  platform === 'x' ? 'X' : platform === 'mastodon' ? 'Mastodon' : platform;

/** What customers said back, as table rows. */
export function answersTable(c: C, answers: readonly CustomerAnswer[], timeZone: string): Html {
  if (answers.length === 0) return html`<p class="muted" id="answers-empty">${t(c, 'effect.noAnswers')}</p>`;
  return html`<table id="answers-table"><thead><tr><th scope="col">${t(c, 'effect.col.at')}</th><th scope="col">${t(c, 'effect.col.customer')}</th><th scope="col">${t(c, 'effect.col.words')}</th><th scope="col">${t(c, 'effect.col.reading')}</th><th scope="col">${t(c, 'effect.col.ourReply')}</th><th scope="col">${t(c, 'effect.col.case')}</th></tr></thead><tbody>${answers.map(
    (a) =>
      html`<tr data-kind="${a.reading?.kind ?? 'other'}"><td>${timeTag(a.at, timeZone)}</td><td>${platformLabel(a.platform)} @${a.authorHandle ?? '?'}</td><td style="white-space:pre-wrap;overflow-wrap:anywhere">${a.text}</td><td><strong>${t(c, `effect.kind.${a.reading?.kind ?? 'other'}`)}</strong>${a.reading && a.reading.signals.length > 0 ? html`<br><small class="muted">${a.reading.signals.slice(0, 6).join(' · ')}</small>` : ''}</td><td style="overflow-wrap:anywhere"><small>${a.reply.seq > 1 ? html`<span class="muted">${t(c, 'effect.followUp')}</span> ` : ''}${clip(a.reply.text, 140)}</small></td><td><a href="/inbox/${a.matchId}">${t(c, 'effect.open')}</a></td></tr>`,
  )}</tbody></table>`;
}

const clip = (text: string, max: number) => {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
};

export interface EffectPageData {
  readonly period: { readonly from: Date; readonly to: Date };
  readonly effect: EffectStats;
  readonly answers: readonly CustomerAnswer[];
  readonly next: string | null;
  readonly watches: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  readonly templates: ReadonlyMap<string, string>;
}

export const ANSWERS_PAGE = 50;

/** Everything the effect page shows. */
export async function loadEffectPage(
  repos: Repositories,
  form: EffectForm,
  now: Date,
): Promise<EffectPageData> {
  const period = await repos.stats.period({ now, days: form.days, timeZone: form.timeZone });
  const query = answersQuery(form, period);
  const { kind: _kind, ...effectQuery } = query;
  const [effect, answers, { config }] = await Promise.all([
    repos.stats.effect(effectQuery),
    repos.stats.answers(query, { limit: ANSWERS_PAGE + 1, before: form.before }),
    repos.config.current(),
  ]);
  const shown = answers.slice(0, ANSWERS_PAGE);
  const last = shown[shown.length - 1];
  return {
    period,
    effect,
    answers: shown,
    next: answers.length > ANSWERS_PAGE && last ? encodeCursor(last.at, last.id) : null,
    watches: config.watches.map((w) => ({ id: w.id, name: w.name ?? w.id })),
    templates: new Map(config.templates.map((tpl) => [tpl.id, tpl.name ?? tpl.id])),
  };
}

function select(
  c: C,
  id: string,
  name: string,
  labelKey: string,
  current: string,
  options: ReadonlyArray<readonly [string, string]>,
  error: string | undefined,
) {
  const known = options.some(([value]) => value === current);
  return html`<div><label for="${id}">${t(c, labelKey)}</label><select id="${id}" name="${name}"${error ? html` aria-invalid="true"` : ''}><option value="">${t(c, 'effect.any')}</option>${options.map(
    ([value, text]) =>
      html`<option value="${value}"${value === current ? html` selected` : ''}>${text}</option>`,
  )}${current !== '' && !known ? html`<option value="${current}" selected>${current}</option>` : ''}</select>${fieldError(error === undefined ? {} : { [name]: error }, name)}</div>`;
}

export function templateName(id: string | null, names: ReadonlyMap<string, string>, c: C): string {
  if (id === null) return t(c, 'effect.noTemplate');
  return names.get(id) ?? id;
}

export function effectBody(c: C, form: EffectForm, data: EffectPageData): Html {
  const zones = [...new Set([c.get('timeZone'), ...TIME_ZONES, form.timeZone])];
  const { effect } = data;
  const days = (PERIODS as readonly number[]).includes(form.days) ? [...PERIODS] : [...PERIODS, form.days];
  const platforms = [...new Set([...platformSchema.options, ...effect.byPlatform.map((p) => p.platform)])];
  const templateOptions: Array<readonly [string, string]> = [
    ...[...data.templates].map(([id, name]) => [id, name] as const),
    [NO_TEMPLATE, t(c, 'effect.noTemplate')],
  ];
  return html`<form method="get" action="/effect" class="filters card" style="display:flex;gap:1rem;align-items:end;flex-wrap:wrap">
<div><label for="e-days">${t(c, 'effect.period')}</label><select id="e-days" name="days">${days.map(
    (n) =>
      html`<option value="${n}"${n === form.days ? html` selected` : ''}>${t(c, 'dashboard.days', { n })}</option>`,
  )}</select></div>
<div><label for="e-tz">${t(c, 'dashboard.timeZone')}</label><select id="e-tz" name="tz">${zones.map(
    (z) => html`<option value="${z}"${z === form.timeZone ? html` selected` : ''}>${z}</option>`,
  )}</select></div>
${select(
  c,
  'e-platform',
  'platform',
  'effect.platform',
  form.platform,
  platforms.map((p) => [p, platformLabel(p)] as const),
  form.errors.platform,
)}
${select(
  c,
  'e-watch',
  'watch',
  'effect.watch',
  form.watch,
  data.watches.map((w) => [w.id, w.name] as const),
  form.errors.watch,
)}
${select(c, 'e-template', 'template', 'effect.template', form.template, templateOptions, form.errors.template)}
${select(
  c,
  'e-kind',
  'kind',
  'effect.kind',
  form.kind,
  ANSWER_KINDS.map((k) => [k, t(c, `effect.kind.${k}`)] as const),
  form.errors.kind,
)}
<div><button type="submit">${t(c, 'effect.show')}</button></div>
</form>
<p class="muted" id="effect-period">${t(c, 'effect.range', { from: zonedText(data.period.from, form.timeZone), to: zonedText(data.period.to, form.timeZone), tz: form.timeZone })}</p>
${effectCards(c, effect.totals)}
<div class="grid2" style="display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 1rem">
<div class="card" style="overflow-x:auto"><h2>${t(c, 'effect.byPlatform')}</h2>${figuresTable(
    c,
    'by-platform',
    t(c, 'effect.platform'),
    effect.byPlatform.map((p) => ({ name: platformLabel(p.platform), figures: p })),
  )}</div>
<div class="card" style="overflow-x:auto"><h2>${t(c, 'effect.byTemplate')}</h2>${figuresTable(
    c,
    'by-template',
    t(c, 'effect.template'),
    effect.byTemplate.map((p) => ({ name: templateName(p.templateId, data.templates, c), figures: p })),
  )}</div>
</div>
<div class="card"><h2>${t(c, 'effect.answersByKind')}</h2><ul id="answers-by-kind" style="list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.5rem">${ANSWER_KINDS.map(
    (k) =>
      html`<li><a href="/effect${effectQueryString({ ...form, kind: k })}">${t(c, `effect.kind.${k}`)}</a>: <strong data-kind="${k}">${formatNumber(effect.answersByKind[k])}</strong></li>`,
  )}</ul></div>
<div class="card" style="overflow-x:auto"><h2 id="words">${t(c, 'effect.words')}</h2><p class="muted">${t(c, 'effect.wordsNote')}</p>
<p><a href="/effect.csv${effectQueryString(form)}" download>${t(c, 'effect.csv')}</a></p>
${answersTable(c, data.answers, form.timeZone)}
<p>${form.before ? html`<a href="/effect${effectQueryString(form)}#words">${t(c, 'effect.first')}</a> ` : ''}${data.next ? html`<a href="/effect${effectQueryString(form, { before: data.next })}#words" rel="next">${t(c, 'effect.next')}</a>` : ''}</p></div>
<p class="muted"><small>${t(c, 'effect.cohortNote')}</small></p>`;
}

export const ANSWER_CSV_COLUMNS = [
  'answered_at',
  'platform',
  'author_handle',
  'answer_text',
  'reading',
  'signals',
  'answer_url',
  'match_id',
  'reply_seq',
  'reply_text',
  'reply_sent_at',
  'template_id',
] as const;

const answerCells = (a: CustomerAnswer) => [
  a.at.toISOString(),
  a.platform,
  a.authorHandle,
  a.text,
  a.reading?.kind ?? 'other',
  a.reading?.signals.join(' | ') ?? '',
  a.url,
  a.matchId,
  a.reply.seq,
  a.reply.text,
  a.reply.sentAt?.toISOString() ?? null,
  a.reply.templateId,
];

/** A safety bound on one export. */
export const MAX_ANSWER_ROWS = 200_000;
const CSV_PAGE = 500;

/** The answers under `query`, newest first, streamed one keyset page at a time (flat memory). */
export function answersCsv(repos: Repositories, query: AnswersQuery): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: { at: Date; id: string } | undefined;
  let sent = 0;
  let headerDone = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerDone) {
        headerDone = true;
        controller.enqueue(encoder.encode(`\uFEFF${csvLine(ANSWER_CSV_COLUMNS)}`));
        return;
      }
      const page = await repos.stats.answers(query, { limit: CSV_PAGE, before });
      if (page.length > 0) {
        controller.enqueue(encoder.encode(page.map((a) => csvLine(answerCells(a))).join('')));
        sent += page.length;
        const last = page[page.length - 1] as CustomerAnswer;
        before = { at: last.at, id: last.id };
      }
      if (page.length < CSV_PAGE || sent >= MAX_ANSWER_ROWS) controller.close();
    },
  });
}

/** The CSV response headers (a download named after the day). */
export function csvHeaders(name: string, now: Date): Record<string, string> {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="kikimimi-${name}-${day}.csv"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
}

export const repositoryOf = (c: C) => depsOf(c).repos;
