import type {
  DiscordSettings,
  MatchRecord,
  PlatformAccount,
  ReplyRecord,
  ReviewDecision,
  ReviewMessageRef,
} from '@kikimimi/db';
import { escalationTargets } from '@kikimimi/desk';
import {
  type Category,
  type Config,
  categorySchema,
  measureReplyTo,
  type Post,
  renderTemplate,
  selectTemplates,
  type Template,
  TemplateError,
} from '@kikimimi/rules';
import { html } from 'hono/html';
import type { WebDeps } from '../../context.ts';
import { escalationReasonText, suppressionDetailText } from '../../decision-text.ts';
import { formatNumber } from '../../format.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, fieldError, type Html } from '../../layout.ts';
import { departmentSuggestions, voiceForm } from '../effect/voice.ts';
import { surgeBadge } from '../surges.ts';
import {
  CASE_STYLE,
  type CaseData,
  type CaseForms,
  caseForms,
  caseStateBadge,
  caseSummary,
  caseThread,
  type FollowUpFormState,
  historyCard,
  linkIdentityForm,
  type TemplateControls,
} from './case-view.ts';
import { CASE_STATES, type FilterField, INTENTS, PLATFORMS, STATUSES } from './filters.ts';
import { type C, label, timeTag, zonedText } from './shared.ts';

export const CATEGORIES: readonly Category[] = categorySchema.options;

/** Only http(s) links are rendered as links (a post URL comes from outside). */
export const safeHref = (url: string | null | undefined) =>
  typeof url === 'string' && /^https?:\/\//iu.test(url) ? url : null;

const PLATFORM_NAMES: Record<string, string> = { x: 'X', mastodon: 'Mastodon' };
export const platformName = (platform: string) => PLATFORM_NAMES[platform] ?? platform;

/** A template in a menu: its name, and its platform unless the name already says it ("ご案内（X）"). */
function templateLabel(tpl: Pick<Template, 'id' | 'name' | 'platform'>): string {
  const name = tpl.name ?? tpl.id;
  if (tpl.platform === '*') return name;
  const platform = platformName(tpl.platform);
  const said = new RegExp(`(?<![a-z])${platform}(?![a-z])`, 'iu').test(name.normalize('NFKC'));
  return said ? name : `${name} (${platform})`;
}

export const INBOX_STYLE = `
.history td:nth-child(-n+3),.history th{white-space:nowrap}
.inbox td.post{max-width:28rem;white-space:pre-wrap;overflow-wrap:anywhere}.inbox td{font-size:.92rem}.inbox th,.inbox .badge{white-space:nowrap}
.badge.urgent,.badge.high{background:#fde2e1;color:#b42318}.badge.esc{background:#fff1d6;color:#93370d}
.badge.sup{background:#eef1f4;color:#5b6770}.badge.st-new{background:#e0ecff;color:#1d4ed8}.badge.st-replied{background:#dcfae6;color:#067647}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}.filters>div{min-width:9rem}.filters label{margin:.2rem 0}
.post-text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:1.05rem}.muted small{color:var(--muted)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 1rem}dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
pre.detail{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.85rem;max-width:40rem}
${CASE_STYLE}
.inbox-wrap{overflow-x:auto}.inbox tr.current{outline:2px solid var(--accent);outline-offset:-2px}
.bulk{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}.bulk select{width:auto}
.length.over{color:var(--bad);font-weight:600}
#live-status:empty{display:none}
.kbd-help{position:fixed;inset:auto 1rem 1rem auto;max-width:calc(100vw - 2rem);background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;box-shadow:0 4px 16px #0002;z-index:10}
.kbd-help[hidden]{display:none}kbd{border:1px solid var(--line);border-radius:3px;padding:0 .3rem;background:#f7f8fa;font-size:.85rem}
@media (max-width:640px){
 table.inbox thead{display:none}table.inbox,table.inbox tbody,table.inbox tr,table.inbox td{display:block;width:100%}
 table.inbox tr{border-bottom:1px solid var(--line);padding:.3rem 0}table.inbox td{border:0;padding:.15rem .5rem}.inbox td.post{max-width:none}
 table.history thead{display:none}table.history,table.history tbody,table.history tr,table.history td{display:block;width:100%}
 table.history tr{border-bottom:1px solid var(--line)}table.history td,table.history td:nth-child(-n+3){border:0;white-space:normal;padding:.1rem .5rem}.grid2{grid-template-columns:minmax(0,1fr)}dl.kv{grid-template-columns:minmax(0,1fr)}
 .filters>div{min-width:0;flex:1 1 8rem}
}
`;

export function statusBadge(c: C, status: string) {
  return html`<span class="badge st-${status}">${label(c, 'inbox.status', status)}</span>`;
}

/** Surge id → its size, for the badges of a page's members (`surges.sizes`). */
export type SurgeSizes = ReadonlyMap<string, { readonly count: number }>;

function badges(c: C, match: MatchRecord, surges: SurgeSizes) {
  const parts: Html[] = [];
  const surge = match.surgeId ? surges.get(match.surgeId) : undefined;
  if (match.surgeId && surge) parts.push(surgeBadge(c, { id: match.surgeId, count: surge.count }));
  if (match.priority !== 'normal') {
    parts.push(
      html`<span class="badge ${match.priority}" title="${t(c, 'inbox.priorityLabel', { p: label(c, 'inbox.priority', match.priority) })}">${label(c, 'inbox.priority', match.priority)}</span>`,
    );
  }
  if (match.escalated) parts.push(html`<span class="badge esc">${t(c, 'inbox.escalatedBadge')}</span>`);
  for (const reason of match.decision.suppression.reasons) {
    parts.push(html`<span class="badge sup">${label(c, 'inbox.reason', reason)}</span>`);
  }
  return parts.length === 0 ? '' : html`<div>${parts.map((p) => html`${p} `)}</div>`;
}

function author(c: C, match: MatchRecord) {
  const a = match.post.author;
  return html`<strong>${a.displayName || a.handle}</strong><br><span class="muted">@${a.handle}</span>${
    a.followers === null
      ? ''
      : html`<br><small class="muted">${t(c, 'inbox.followers', { n: formatNumber(a.followers) })}</small>`
  }`;
}

function signals(c: C, match: MatchRecord) {
  const list = match.decision.signals;
  const model = match.decision.model;
  if (list.length === 0 && model === undefined) return '';
  return html`<small class="muted" title="${t(c, 'inbox.signals')}">${list.map(
    (s, i) => html`${i > 0 ? ', ' : ''}${s.word}${s.negated ? html` (${t(c, 'inbox.negated')})` : ''}`,
  )}${
    model === undefined
      ? ''
      : html`${list.length > 0 ? html`<br>` : ''}${t(
          c,
          model.dictionary === model.intent ? 'inbox.model' : 'inbox.modelOverrules',
          {
            intent: t(c, `inbox.intent.${model.intent}`),
            percent: Math.round(model.probability * 100),
            dictionary: t(c, `inbox.intent.${model.dictionary}`),
          },
        )}`
  }</small>`;
}

/** Watch id → what the reviewer reads: its name when it has one. */
export type WatchNames = ReadonlyMap<string, string>;

export const watchNamesOf = (config: Pick<Config, 'watches'>): WatchNames =>
  new Map(config.watches.map((w) => [w.id, w.name ?? w.id]));

/** The watches a match fired for, by name (the id on hover when they differ). */
function watchList(ids: readonly string[], names: WatchNames) {
  return ids.map((id, i) => {
    const name = names.get(id) ?? id;
    return html`${i > 0 ? ', ' : ''}${name === id ? id : html`<span title="${id}">${name}</span>`}`;
  });
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The surges of these matches with their sizes (for their badges): one query, none without members. */
export async function surgeSizesOf(
  repos: Pick<WebDeps['repos'], 'surges'>,
  matches: readonly MatchRecord[],
): Promise<SurgeSizes> {
  const ids = matches.flatMap((m) => (m.surgeId ? [m.surgeId] : []));
  return ids.length === 0 ? new Map() : repos.surges.sizes(ids);
}

export function matchRow(
  c: C,
  match: MatchRecord,
  names: WatchNames,
  selectable = false,
  surges: SurgeSizes = new Map(),
) {
  const href = safeHref(match.post.url);
  return html`<tr data-match-id="${match.id}">
${selectable ? html`<td class="select"><input type="checkbox" name="ids" value="${match.id}" form="bulk-form" aria-label="${t(c, 'inbox.bulk.select')}"></td>` : ''}
<td>${timeTag(match.createdAt, c.get('timeZone'))}<br><a href="/inbox/${match.id}" data-open>${t(c, 'inbox.open')}</a></td>
<td>${platformName(match.platform)}</td>
<td>${author(c, match)}</td>
<td class="post">${clip(match.post.text, 280)}${href ? html`<br><a href="${href}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.postLink')}</a>` : ''}</td>
<td>${watchList(match.decision.watches, names)}</td>
<td>${label(c, 'inbox.intent', match.decision.intent)}<br>${signals(c, match)}</td>
<td>${statusBadge(c, match.status)}${badges(c, match, surges)}</td>
<td>${caseStateBadge(c, match.caseState)}<br><small data-assignee="${match.assignee?.id ?? ''}">${match.assignee ? match.assignee.name || match.assignee.id : t(c, 'case.nobody')}</small></td>
</tr>`;
}

function options(
  values: readonly string[],
  selected: string | undefined,
  text: (v: string) => string,
  anyText: string,
) {
  return html`<option value="">${anyText}</option>${values.map(
    (v) => html`<option value="${v}"${selected === v ? html` selected` : ''}>${text(v)}</option>`,
  )}`;
}

/** The GET filter form (works without JavaScript). */
export function filterForm(
  c: C,
  query: Readonly<Partial<Record<FilterField, string>>>,
  errors: FieldErrors,
  names: WatchNames,
  teammates: ReadonlyArray<{ readonly id: string; readonly username: string }> = [],
) {
  const any = t(c, 'inbox.filter.any');
  const yesNo = (field: 'escalated' | 'suppressed') =>
    options(
      ['true', 'false'],
      query[field],
      (v) => t(c, v === 'true' ? 'inbox.filter.yes' : 'inbox.filter.no'),
      any,
    );
  const field = (name: FilterField, control: Html) =>
    html`<div><label for="f-${name}">${t(c, `inbox.field.${name}`)}</label>${control}${fieldError(errors, name)}</div>`;
  return html`<form method="get" action="/inbox" class="filters card" aria-label="${t(c, 'inbox.filters')}">
${field('status', html`<select id="f-status" name="status">${options(STATUSES, query.status, (v) => label(c, 'inbox.status', v), any)}</select>`)}
${field('case', html`<select id="f-case" name="case">${options(CASE_STATES, query.case, (v) => label(c, 'case.state', v), any)}</select>`)}
${field(
  'assignee',
  html`<select id="f-assignee" name="assignee">${options(
    ['me', 'nobody', ...teammates.map((u) => u.id)],
    query.assignee,
    (v) =>
      v === 'me'
        ? t(c, 'inbox.filter.me')
        : v === 'nobody'
          ? t(c, 'case.nobody')
          : (teammates.find((u) => u.id === v)?.username ?? v),
    any,
  )}</select>`,
)}
${field('platform', html`<select id="f-platform" name="platform">${options(PLATFORMS, query.platform, platformName, any)}</select>`)}
${field('intent', html`<select id="f-intent" name="intent">${options(INTENTS, query.intent, (v) => label(c, 'inbox.intent', v), any)}</select>`)}
${field(
  'watch',
  html`<select id="f-watch" name="watch">${options(
    [...names.keys(), ...(query.watch && !names.has(query.watch) ? [query.watch] : [])],
    query.watch,
    (id) => {
      const name = names.get(id);
      return name === undefined
        ? t(c, 'inbox.filter.removedWatch', { id })
        : name === id
          ? id
          : `${name} (${id})`;
    },
    any,
  )}</select>`,
)}
${field('escalated', html`<select id="f-escalated" name="escalated">${yesNo('escalated')}</select>`)}
${field('suppressed', html`<select id="f-suppressed" name="suppressed">${yesNo('suppressed')}</select>`)}
${field(
  'surge',
  html`<select id="f-surge" name="surge">${options(
    ['true', 'false'],
    query.surge,
    (v) => t(c, v === 'true' ? 'inbox.filter.inSurge' : 'inbox.filter.notInSurge'),
    any,
  )}</select>`,
)}
<div><button type="submit">${t(c, 'inbox.filter.apply')}</button> <a href="/inbox">${t(c, 'inbox.filter.clear')}</a></div>
</form>`;
}

// ---------------------------------------------------------------------------------------------
// The detail page

export interface MatchDetail {
  readonly match: MatchRecord;
  readonly decisions: ReviewDecision[];
  readonly reply: ReplyRecord | null;
  readonly message: ReviewMessageRef | null;
  readonly config: Config;
  readonly settings: DiscordSettings;
  readonly account: PlatformAccount | null;
  /** The case: every reply, the events, teammates, the customer's history. */
  readonly case: CaseData;
  /** The surge it is a member of, with its size (its badge); null or absent: none. */
  readonly surge?: { readonly id: string; readonly count: number } | null;
}

const YEAR = 365 * 24 * 3_600_000;
/** Earlier matches shown in the customer's history. */
const HISTORY_LIMIT = 10;

export async function loadDetail(deps: WebDeps, id: string): Promise<MatchDetail | null> {
  const { repos } = deps;
  const match = await repos.matches.get(id);
  if (match === null) return null;
  const author = match.post.author;
  const [decisions, replies, message, { config }, settings, account, events, users, contacts, surges] =
    await Promise.all([
      repos.reviews.decisions(match.id),
      repos.replies.listForMatch(match.id),
      repos.reviews.getMessage(match.id),
      repos.config.current(),
      repos.discord.get(),
      match.accountId === null ? Promise.resolve(null) : repos.accounts.get(match.accountId),
      repos.cases.events(match.id),
      repos.users.list(),
      // The cooldown's own question: whom of this person (same id, same handle key) did we answer, when.
      repos.ingest.contactHistory(
        [{ platform: match.platform, authorId: author.id, handle: author.handle }],
        new Date(deps.now().getTime() - YEAR),
      ),
      surgeSizesOf(repos, [match]),
    ]);
  const history = await repos.customers.history(
    { platform: match.platform, authorId: author.id, handle: author.handle },
    {
      excludeMatchId: match.id,
      acrossPlatforms: config.suppression.linkHandlesAcrossPlatforms,
      limit: HISTORY_LIMIT,
    },
  );
  const last = contacts.find(
    (contact) =>
      contact.matchId !== match.id &&
      (config.suppression.linkHandlesAcrossPlatforms ||
        (contact.platform === match.platform && contact.authorId === author.id)),
  );
  const reply = replies.find((r) => r.seq === 1) ?? null;
  const surge = match.surgeId ? surges.get(match.surgeId) : undefined;
  return {
    match,
    surge: match.surgeId && surge ? { id: match.surgeId, count: surge.count } : null,
    decisions,
    reply,
    message,
    config,
    settings,
    account,
    case: {
      replies,
      events,
      users: users.map((u) => ({ id: u.id, username: u.username, role: u.role })),
      history,
      lastContact:
        last === undefined ? null : { at: new Date(last.at), platform: last.platform, handle: last.handle },
      cooldownHours: config.suppression.authorCooldownHours,
    },
  };
}

/** What the reply form shows: the chosen template, its category and the (edited) text. */
export interface ReplyFormState {
  readonly templateId: string;
  readonly category: string;
  readonly text: string;
  /** A template that could not be rendered (a variable was removed since). */
  readonly notice?: string | undefined;
}

/** The templates that apply to the match, best first, in the post's language first (as Discord picks them). */
export function templatesFor(detail: MatchDetail): Template[] {
  return selectTemplates(detail.config.templates, {
    platform: detail.match.platform,
    watchId: detail.match.decision.watches[0] ?? '',
    language: detail.match.post.lang,
  });
}

/** The reply form prefilled with a template: the one asked for, else the one the rules suggested. */
export function prefill(
  c: C,
  detail: MatchDetail,
  wanted: string | undefined,
  to: Post = detail.match.post,
): ReplyFormState {
  const candidates = templatesFor(detail);
  const { match, config } = detail;
  const suggested = match.decision.reply?.templateId;
  const template =
    candidates.find((tpl) => tpl.id === wanted) ??
    (wanted === '' ? undefined : candidates.find((tpl) => tpl.id === suggested)) ??
    (wanted === '' ? undefined : candidates.find((tpl) => tpl.category === match.decision.category));
  if (template === undefined)
    return { templateId: '', category: match.decision.category ?? 'custom', text: '' };
  const watch = config.watches.find((w) => w.id === match.decision.watches[0]);
  try {
    const text = renderTemplate(template, {
      post: to,
      watch: { id: watch?.id ?? match.decision.watches[0] ?? '', name: watch?.name },
      variables: config.variables,
    });
    return { templateId: template.id, category: template.category, text };
  } catch (error) {
    const message =
      error instanceof TemplateError ? (error.problems[0]?.message ?? error.message) : String(error);
    return {
      templateId: template.id,
      category: template.category,
      text: '',
      notice: t(c, 'inbox.template.broken', { id: template.id, message }),
    };
  }
}

function decisionDetail(c: C, d: ReviewDecision) {
  const detail = d.detail as Record<string, unknown>;
  const str = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : '');
  switch (d.kind) {
    case 'reply':
      return html`${str('category') ? html`<span class="badge">${label(c, 'inbox.category', str('category'))}</span> ` : ''}${
        str('templateId') ? html`<code>${str('templateId')}</code> ` : ''
      }<div class="post-text">${str('text')}</div>`;
    case 'escalate':
      return html`→ <strong>${str('target')}</strong>`;
    case 'dismiss':
      return str('reason');
    case 'manual_reply': {
      const href = safeHref(str('url'));
      return href ? html`<a href="${href}" rel="noopener noreferrer">${href}</a>` : '';
    }
    default:
      return html`<pre class="detail">${JSON.stringify(detail, null, 1)}</pre>`;
  }
}

function historySection(c: C, detail: MatchDetail) {
  if (detail.decisions.length === 0) return html`<p class="muted">${t(c, 'inbox.detail.noHistory')}</p>`;
  return html`<table class="history"><thead><tr><th>${t(c, 'inbox.detail.when')}</th><th>${t(c, 'inbox.detail.who')}</th><th>${t(c, 'inbox.detail.what')}</th><th>${t(c, 'inbox.detail.detail')}</th></tr></thead>
<tbody>${detail.decisions.map(
    (d) =>
      html`<tr data-decision="${d.kind}"><td>${timeTag(d.at, c.get('timeZone'))}</td><td>${d.actor.name || d.actor.id} <span class="badge">${label(c, 'inbox.actor', d.actor.kind)}</span></td><td>${label(c, 'inbox.decision', d.kind)}</td><td>${decisionDetail(c, d)}</td></tr>`,
  )}</tbody></table>`;
}

function replySection(c: C, detail: MatchDetail, editor: boolean, errors: FieldErrors, url: string) {
  const reply = detail.reply;
  if (reply === null) return html`<p class="muted">${t(c, 'inbox.reply.none')}</p>`;
  const link = safeHref(reply.url);
  const manual = safeHref(reply.manualUrl);
  const waiting = reply.state === 'manual_pending' || reply.state === 'failed';
  return html`<dl class="kv">
<dt>${t(c, 'inbox.reply.state')}</dt><dd><span class="badge" data-reply-state="${reply.state}">${label(c, 'inbox.reply.state', reply.state)}</span></dd>
<dt>${t(c, 'inbox.reply.text')}</dt><dd class="post-text">${reply.text}</dd>
${link ? html`<dt></dt><dd><a href="${link}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.reply.link')}</a></dd>` : ''}
${reply.error ? html`<dt>${t(c, 'inbox.reply.error')}</dt><dd class="error">${reply.error}</dd>` : ''}
<dt></dt><dd><small class="muted">${t(c, 'inbox.reply.by', { name: reply.createdBy.name || reply.createdBy.id, kind: label(c, 'inbox.actor', reply.createdBy.kind), at: zonedText(reply.createdAt, c.get('timeZone')) })}</small></dd>
</dl>
${
  waiting
    ? html`<p>${t(c, 'inbox.reply.manualHelp')}</p>
${manual ? html`<p><a class="button" href="${manual}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.reply.manualLink')}</a></p>` : ''}
${
  editor && reply.state === 'failed'
    ? html`<form method="post" action="/inbox/${detail.match.id}/retry">${csrfField(c)}
<p><button type="submit">${t(c, 'inbox.reply.retry')}</button> <small class="muted">${t(c, 'inbox.reply.retryHelp')}</small></p></form>`
    : ''
}
${
  editor
    ? html`<form method="post" action="/inbox/${detail.match.id}/manual-done">${csrfField(c)}
<label for="manual-url">${t(c, 'inbox.reply.manualUrl')}</label><input id="manual-url" type="url" name="url" value="${url}">${fieldError(errors, 'url')}
<p><button type="submit">${t(c, 'inbox.reply.markDone')}</button></p></form>`
    : ''
}`
    : ''
}`;
}

function reviewSection(c: C, detail: MatchDetail) {
  const m = detail.message;
  if (m?.messageId)
    return html`<p data-review="posted">${t(c, 'inbox.review.posted', { channel: m.channelId, message: m.messageId })}</p>`;
  if (m) return html`<p data-review="posting">${t(c, 'inbox.review.posting', { channel: m.channelId })}</p>`;
  if (detail.match.suppressed)
    return html`<p class="muted" data-review="suppressed">${t(c, 'inbox.review.suppressed')}</p>`;
  return html`<p class="muted" data-review="none">${t(c, 'inbox.review.none')}</p>`;
}

export interface ActionForms {
  readonly reply: ReplyFormState;
  readonly target?: string | undefined;
  readonly reason?: string | undefined;
  readonly url?: string | undefined;
  readonly errors: FieldErrors;
  /** A problem that belongs to no field (already handled, …), shown above the actions. */
  readonly error?: string | undefined;
  /** Shown at the top of the page (the page is long: the field with the error may be far below). */
  readonly flash?: string | undefined;
  /** The case's forms (follow-up, note) as they were sent, after a refusal. */
  readonly case?: Partial<Omit<CaseForms, 'errors'>> | undefined;
}

/** The follow-up form prefilled with a template rendered for the answer's author. */
export function prefillFollowUp(
  c: C,
  detail: MatchDetail,
  wanted: string | undefined,
  answerId = '',
): FollowUpFormState {
  const answers = detail.case.events.filter((e) => e.kind === 'answer' && e.postId !== null);
  const answer = answers.find((a) => a.id === answerId) ?? answers.at(-1);
  if (answer === undefined || wanted === undefined || wanted === '')
    return { templateId: '', category: detail.match.decision.category ?? 'custom', text: '', answerId };
  const to = answer.post ?? {
    ...detail.match.post,
    author: { ...detail.match.post.author, handle: answer.authorHandle ?? detail.match.post.author.handle },
  };
  return { ...prefill(c, detail, wanted, to), answerId };
}

/** The author a reply goes to: the matched post's, or for a follow-up the answer's author. */
export function recipientOf(detail: MatchDetail, answerId: string): string {
  const answer = detail.case.events.find((e) => e.id === answerId && e.kind === 'answer');
  return answer?.post?.author.handle ?? answer?.authorHandle ?? detail.match.post.author.handle;
}

/** The template menu, category select and live length line of the reply and follow-up forms. */
export function templateControls(c: C, detail: MatchDetail): TemplateControls {
  const { match } = detail;
  const candidates = templatesFor(detail);
  const platform = platformName(match.platform);
  const byCategory = CATEGORIES.map((category) => ({
    category,
    templates: candidates.filter((tpl) => tpl.category === category),
  })).filter((group) => group.templates.length > 0);
  return {
    picker: (name, selected, anchor) => {
      const id = name === 'template' ? 'tpl' : `${name}-tpl`;
      return candidates.length === 0
        ? html`<p class="muted">${t(c, 'inbox.template.noneApply')}</p>`
        : html`<form method="get" action="/inbox/${match.id}#${anchor}" class="filters">
<div style="flex:1"><label for="${id}">${t(c, 'inbox.template')}</label><select id="${id}" name="${name}">
<option value=""${selected === '' ? html` selected` : ''}>${t(c, 'inbox.template.none')}</option>
${byCategory.map(
  (group) =>
    html`<optgroup label="${label(c, 'inbox.category', group.category)}">${group.templates.map(
      (tpl) =>
        html`<option value="${tpl.id}"${tpl.id === selected ? html` selected` : ''}>${templateLabel(tpl)}</option>`,
    )}</optgroup>`,
)}</select></div>
<div><button type="submit" class="secondary">${t(c, 'inbox.template.use')}</button></div></form>`;
    },
    category: (id, selected) => html`<label for="${id}">${t(c, 'inbox.reply.category')}</label>
<select id="${id}" name="category">${CATEGORIES.map(
      (category) =>
        html`<option value="${category}"${category === selected ? html` selected` : ''}>${label(c, 'inbox.category', category)}</option>`,
    )}</select>`,
    length: (id, text, answerId) => {
      const handle = recipientOf(detail, answerId);
      const length =
        text.trim() === ''
          ? null
          : measureReplyTo(
              text.trim(),
              { platform: match.platform, authorHandle: handle },
              { maxCharacters: detail.config.platforms.mastodon.maxCharacters },
            );
      // The script (MEASURE_SCRIPT) asks /api/matches/:id/measure as the reviewer types and fills the
      // counter from the template in data-template; the server stays the judge on submit.
      return html`<p id="${id}" class="muted" data-match="${match.id}" data-template="${t(c, 'inbox.reply.length', { platform })}"><small><span class="length${length && !length.ok ? ' over' : ''}" aria-live="polite">${length ? t(c, 'inbox.reply.length', { length: length.length, limit: length.limit, platform }) : ''}</span>${
        match.platform === 'mastodon' ? html` ${t(c, 'inbox.reply.mastodonMention', { handle })}` : ''
      }</small></p>`;
    },
  };
}

function replyForm(c: C, detail: MatchDetail, state: ReplyFormState, errors: FieldErrors) {
  const { match } = detail;
  const controls = templateControls(c, detail);
  return html`<section aria-labelledby="reply-h"><h3 id="reply-h">${t(c, 'inbox.reply.title')}</h3>
${controls.picker('template', state.templateId, 'reply-h')}
${state.notice ? html`<p class="error" role="alert">${state.notice}</p>` : ''}
<form method="post" action="/inbox/${match.id}/reply" id="reply-form">${csrfField(c)}
<input type="hidden" name="templateId" value="${state.templateId}">${fieldError(errors, 'templateId')}
${controls.category('reply-category', state.category)}${fieldError(errors, 'category')}
<label for="reply-text">${t(c, 'inbox.reply.textLabel')}</label>
<textarea id="reply-text" name="text" rows="6" data-measure="reply-length" aria-describedby="reply-length"${errors.text ? html` aria-invalid="true"` : ''}>${state.text}</textarea>
${fieldError(errors, 'text')}
${controls.length('reply-length', state.text, '')}
<p><button type="submit">${t(c, 'inbox.reply.send')}</button></p>
</form></section>`;
}

function escalateForm(c: C, detail: MatchDetail, target: string | undefined, errors: FieldErrors) {
  const { targets, discord } = escalationTargets(detail.match, detail.config, detail.settings);
  const done = new Set(
    detail.decisions.filter((d) => d.kind === 'escalate').map((d) => String(d.detail.target)),
  );
  return html`<section aria-labelledby="esc-h"><h3 id="esc-h">${t(c, 'inbox.escalate.title')}</h3>
${
  targets.length === 0
    ? html`<p class="muted">${t(c, 'inbox.escalate.noTargets')}</p>${fieldError(errors, 'target')}`
    : html`${discord ? '' : html`<p class="muted">${t(c, 'inbox.escalate.recordOnly')}</p>`}
<form method="post" action="/inbox/${detail.match.id}/escalate">${csrfField(c)}
<label for="esc-target">${t(c, 'inbox.escalate.target')}</label>
<select id="esc-target" name="target">${targets.map(
        (route) =>
          html`<option value="${route}"${route === target ? html` selected` : ''}>${route}${done.has(route) ? ` (${t(c, 'inbox.escalate.done', { target: '✓' })})` : ''}</option>`,
      )}</select>${fieldError(errors, 'target')}
<p><button type="submit" class="danger">${t(c, 'inbox.escalate.send')}</button></p></form>`
}</section>`;
}

function dismissForm(c: C, detail: MatchDetail, reason: string | undefined, errors: FieldErrors) {
  return html`<section aria-labelledby="dis-h"><h3 id="dis-h">${t(c, 'inbox.dismiss.title')}</h3>
<form method="post" action="/inbox/${detail.match.id}/dismiss">${csrfField(c)}
<label for="dis-reason">${t(c, 'inbox.dismiss.reason')}</label>
<input id="dis-reason" type="text" name="reason" maxlength="200" value="${reason ?? ''}">${fieldError(errors, 'reason')}
<p><button type="submit" class="secondary">${t(c, 'inbox.dismiss.send')}</button></p></form></section>`;
}

/**
 * Neither a reply nor a dismissal is possible any more: answered, dismissed, or closed because its
 * author deleted the post.
 */
export const isHandled = (detail: Pick<MatchDetail, 'match' | 'reply'>): boolean =>
  detail.reply !== null || detail.match.status === 'dismissed' || detail.match.status === 'deleted';

function actionsSection(c: C, detail: MatchDetail, forms: ActionForms) {
  const user = c.get('user');
  if (user === null || !atLeast(user.role, 'editor'))
    return html`<p class="muted">${t(c, 'inbox.actions.viewer')}</p>`;
  const { match } = detail;
  const handled = isHandled(detail);
  const noAccount = detail.account === null;
  return html`${forms.error ? html`<p class="error" role="alert" data-field="(form)">${forms.error}</p>` : ''}
${
  handled
    ? html`<p class="muted">${t(c, match.status === 'deleted' ? 'inbox.actions.deleted' : 'inbox.actions.handled')}</p>`
    : match.suppressed
      ? html`<p class="muted">${t(c, 'inbox.actions.suppressedNoReply')}</p>`
      : noAccount
        ? html`<p class="muted">${t(c, 'inbox.actions.noAccount')}</p>`
        : replyForm(c, detail, forms.reply, forms.errors)
}
<div class="grid2">${escalateForm(c, detail, forms.target, forms.errors)}${handled ? '' : dismissForm(c, detail, forms.reason, forms.errors)}</div>`;
}

export function detailBody(c: C, detail: MatchDetail, forms: ActionForms) {
  const { match } = detail;
  const d = match.decision;
  const href = safeHref(match.post.url);
  const user = c.get('user');
  const editor = user !== null && atLeast(user.role, 'editor');
  return html`<style nonce="${c.get('nonce')}">${INBOX_STYLE}</style>
<p><a href="/inbox">${t(c, 'inbox.detail.back')}</a></p>
<div class="card inbox" data-match="${match.id}" data-status="${match.status}">
<h2>${match.post.author.displayName || match.post.author.handle}</h2>
<p class="muted">@${match.post.author.handle}${match.post.author.followers === null ? '' : html` · ${t(c, 'inbox.followers', { n: formatNumber(match.post.author.followers) })}`}</p>
<p class="post-text">${match.post.text}</p>
${href ? html`<p><a href="${href}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.postLink')}</a></p>` : ''}
<p>${statusBadge(c, match.status)} ${badges(c, match, detail.surge ? new Map([[detail.surge.id, detail.surge]]) : new Map())}</p>
${caseSummary(c, match, c.get('deps').now())}
<dl class="kv">
<dt>${t(c, 'inbox.col.platform')}</dt><dd>${platformName(match.platform)}</dd>
<dt>${t(c, 'inbox.detail.postedAt')}</dt><dd>${timeTag(new Date(match.post.createdAt), c.get('timeZone'))}</dd>
<dt>${t(c, 'inbox.detail.matchedAt')}</dt><dd>${timeTag(match.createdAt, c.get('timeZone'))}</dd>
<dt>${t(c, 'inbox.detail.firstResponse')}</dt><dd>${match.firstResponseAt ? timeTag(match.firstResponseAt, c.get('timeZone')) : '—'}</dd>
<dt>${t(c, 'inbox.detail.account')}</dt><dd>${detail.account ? `${detail.account.label} (${platformName(detail.account.platform)})` : t(c, 'inbox.detail.imported')}</dd>
<dt>${t(c, 'inbox.col.watches')}</dt><dd>${watchList(d.watches, watchNamesOf(detail.config))}</dd>
<dt>${t(c, 'inbox.col.intent')}</dt><dd>${label(c, 'inbox.intent', d.intent)} ${signals(c, match)}</dd>
<dt>${t(c, 'inbox.detail.category')}</dt><dd>${d.category ? label(c, 'inbox.category', d.category) : '—'}</dd>
<dt>${t(c, 'inbox.col.priority')}</dt><dd>${label(c, 'inbox.priority', match.priority)}</dd>
${
  d.escalations.length > 0
    ? html`<dt>${t(c, 'inbox.detail.escalations')}</dt><dd>${d.escalations.map(
        (e) =>
          html`<div><strong>${e.name}</strong>${e.route ? html` → ${e.route}` : ''} <small class="muted">${e.reasons
            .map((r) => escalationReasonText(c.get('lang'), r))
            .filter((r) => r !== '')
            .join(c.get('lang') === 'ja' ? '、' : '; ')}</small></div>`,
      )}</dd>`
    : ''
}
${
  d.suppression.reasons.length > 0
    ? html`<dt>${t(c, 'inbox.detail.suppression')}</dt><dd>${d.suppression.reasons.map(
        (reason, i) =>
          html`<div>${label(c, 'inbox.reason', reason)} <small class="muted">${suppressionDetailText(c.get('lang'), d.suppression.detail[i] ?? '')}</small></div>`,
      )}</dd>`
    : ''
}
</dl></div>
<div class="grid2">
<div class="card"><h2>${t(c, 'inbox.reply.title')}</h2>${replySection(c, detail, editor, forms.errors, forms.url ?? '')}</div>
<div class="card"><h2>${t(c, 'inbox.review.title')}</h2>${reviewSection(c, detail)}</div>
</div>
<div class="card" id="case"><h2>${t(c, 'case.title')}</h2>${caseThread(c, match, detail.case, detail.decisions, editor)}
${caseForms(
  c,
  match.id,
  detail.case,
  {
    followUp: forms.case?.followUp ?? prefillFollowUp(c, detail, undefined),
    note: forms.case?.note ?? '',
    errors: forms.errors,
  },
  templateControls(c, detail),
  detail.reply !== null && (detail.reply.state === 'sent' || detail.reply.state === 'manual_done'),
  match.caseState,
)}</div>
<div class="card" id="customer-history"><h2>${t(c, 'case.history.title')}</h2>${historyCard(c, detail.case, c.get('deps').now(), platformName)}${
    editor
      ? linkIdentityForm(
          c,
          match.id,
          PLATFORMS.filter((p) => p !== match.platform).map((p) => ({ id: p, name: platformName(p) })),
          forms.errors,
        )
      : ''
  }</div>
<div class="card"><h2>${t(c, 'inbox.detail.history')}</h2>${historySection(c, detail)}</div>
<div class="card"><h2>${t(c, 'inbox.actions.title')}</h2>${actionsSection(c, detail, forms)}</div>
${voiceForm(c, match, { events: detail.case.events, departments: departmentSuggestions(detail.config) })}`;
}
