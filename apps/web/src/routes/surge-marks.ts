import type { SurgeMemberCounts, SurgePeriodSummary } from '@kikimimi/db';
import { html } from 'hono/html';
import { formatNumber } from '../format.ts';
import { addMessages, t } from '../i18n.ts';
import type { Html } from '../layout.ts';
import { csvLine } from './inbox/csv.ts';
import { type C, label, timeTag } from './inbox/shared.ts';
import { platformName, safeHref, type WatchNames } from './inbox/views.ts';
import { surgeHref } from './surges.ts';

/*
 * Surges marked where a period's figures are read — the dashboard, the digest page and its CSV: each
 * surge with when, how big, where, and how it was handled (announcements, its members by where their
 * review stands, open or closed), linking to /surges/:id. The handling is rendered from the counts'
 * keys, so that an outcome added to SurgeMemberCounts shows once it has a label here.
 */

addMessages({
  'surgeMarks.title': { ja: 'この期間の急増', en: 'Surges in this period' },
  'surgeMarks.none': { ja: 'この期間に急増はありません。', en: 'No surges in this period.' },
  'surgeMarks.more': {
    ja: '新しいものから {n} 件を表示しています。すべては急増の一覧にあります。',
    en: 'The latest {n} are shown; every surge is on the surges page.',
  },
  'surgeMarks.note': {
    ja: '期間中に投稿があった急増です。対応の状況は集計時点のものです。',
    en: 'Surges with posts during the period; how they were handled is as of when the figures were computed.',
  },
  'surgeMarks.col.when': { ja: '期間（最初〜最新）', en: 'When (first – latest)' },
  'surgeMarks.col.size': { ja: '件数', en: 'Size' },
  'surgeMarks.col.watch': { ja: 'ウォッチ・意図', en: 'Watch and intent' },
  'surgeMarks.col.platforms': { ja: 'プラットフォーム', en: 'Platforms' },
  'surgeMarks.col.handled': { ja: '対応', en: 'How it was handled' },
  'surgeMarks.col.state': { ja: '状態', en: 'State' },
  'surgeMarks.size': { ja: '{n} 件', en: '{n} posts' },
  'surgeMarks.announced': { ja: '告知: {where}', en: 'Announced on {where}' },
  'surgeMarks.announcedState': { ja: '{platform}（{state}）', en: '{platform} ({state})' },
  'surgeMarks.and': { ja: '・', en: ', ' },
  'surgeMarks.notAnnounced': { ja: '告知なし', en: 'No announcement' },
  'surgeMarks.announcement.pending': { ja: '送信中', en: 'sending' },
  'surgeMarks.announcement.failed': { ja: '失敗', en: 'failed' },
  'surgeMarks.members.waiting': { ja: '未対応 {n}', en: '{n} waiting' },
  'surgeMarks.members.replied': { ja: '返信 {n}', en: '{n} replied' },
  'surgeMarks.members.dismissed': { ja: '対応不要 {n}', en: '{n} dismissed' },
  'surgeMarks.members.escalated': { ja: 'エスカレーション {n}', en: '{n} escalated' },
  'surgeMarks.members.deleted': { ja: '投稿削除 {n}', en: '{n} deleted by their authors' },
  'surgeMarks.state.open': { ja: '継続中', en: 'open' },
  'surgeMarks.state.closed.quiet': {
    ja: '終了（新しい投稿が途絶えた）',
    en: 'closed (went quiet)',
  },
  'surgeMarks.state.closed.reviewer': { ja: '終了（担当者が終了）', en: 'closed by a reviewer' },
  'surgeMarks.state.closed': { ja: '終了', en: 'closed' },
  'surgeMarks.open': { ja: '急増を開く', en: 'Open the surge' },
});

/** Outcomes shown for a surge's members, in this order; `waiting` is shown even at 0 (all handled). */
const MEMBER_OUTCOMES = ['waiting', 'replied', 'dismissed', 'escalated', 'deleted'] as const;

/** "告知: X・Mastodon（失敗）" — where it was announced, with the state of those not (yet) posted. */
export function announcedText(c: C, surge: Pick<SurgePeriodSummary, 'handled'>): string {
  const list = surge.handled.announcements;
  if (list.length === 0) return t(c, 'surgeMarks.notAnnounced');
  const where = list
    .map((a) =>
      a.state === 'sent'
        ? platformName(a.platform)
        : t(c, 'surgeMarks.announcedState', {
            platform: platformName(a.platform),
            state: t(c, `surgeMarks.announcement.${a.state}`),
          }),
    )
    .join(t(c, 'surgeMarks.and'));
  return t(c, 'surgeMarks.announced', { where });
}

/** The members by outcome: "未対応 3 · 対応不要 200 · 返信 10". Unknown keys (a newer outcome) by their name. */
export function membersText(c: C, members: SurgeMemberCounts): string {
  const known = new Set<string>(['total', ...MEMBER_OUTCOMES]);
  const extra = Object.entries(members).filter(([k, n]) => !known.has(k) && typeof n === 'number' && n > 0);
  return [
    ...MEMBER_OUTCOMES.filter((k) => k === 'waiting' || members[k] > 0).map((k) =>
      t(c, `surgeMarks.members.${k}`, { n: formatNumber(members[k]) }),
    ),
    ...extra.map(([k, n]) => `${k} ${formatNumber(n as number)}`),
  ].join(' · ');
}

/** Open, or closed and by what. */
export function surgeStateText(c: C, surge: Pick<SurgePeriodSummary, 'status' | 'closedBy'>): string {
  if (surge.status === 'open') return t(c, 'surgeMarks.state.open');
  return t(c, surge.closedBy ? `surgeMarks.state.closed.${surge.closedBy}` : 'surgeMarks.state.closed');
}

const counts = (c: C, values: Readonly<Record<string, number>>, name: (k: string) => string) =>
  Object.entries(values)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${name(k)} ${formatNumber(n)}`)
    .join(' · ') || t(c, 'dashboard.none');

/**
 * The surges of a period as a table (`id`: the table's id), times in `timeZone`; `more`: there are
 * more than listed.
 */
export function surgeTable(
  c: C,
  surges: readonly SurgePeriodSummary[],
  options: {
    readonly id: string;
    readonly timeZone: string;
    readonly watchNames: WatchNames;
    readonly more: boolean;
  },
): Html {
  if (surges.length === 0)
    return html`<p class="muted" id="${options.id}-empty">${t(c, 'surgeMarks.none')}</p>`;
  const { timeZone, watchNames } = options;
  return html`<table id="${options.id}"><thead><tr><th scope="col">${t(c, 'surgeMarks.col.when')}</th><th scope="col">${t(c, 'surgeMarks.col.size')}</th><th scope="col">${t(c, 'surgeMarks.col.watch')}</th><th scope="col">${t(c, 'surgeMarks.col.platforms')}</th><th scope="col">${t(c, 'surgeMarks.col.handled')}</th><th scope="col">${t(c, 'surgeMarks.col.state')}</th></tr></thead>
<tbody>${surges.map((s) => {
    const links = s.handled.announcements.flatMap((a) => {
      const href = a.state === 'sent' ? safeHref(a.url) : null;
      return href
        ? [html` <a href="${href}" rel="noopener noreferrer" target="_blank">${platformName(a.platform)}</a>`]
        : [];
    });
    return html`<tr data-surge-id="${s.id}"><td>${timeTag(s.firstAt, timeZone)} 〜<br>${timeTag(s.lastAt, timeZone)}</td><td><a href="${surgeHref(s)}" title="${t(c, 'surgeMarks.open')}"><strong data-size>${t(c, 'surgeMarks.size', { n: formatNumber(s.count) })}</strong></a></td><td>${watchNames.get(s.watchId) ?? s.watchId}<br><small class="muted">${counts(c, s.intents, (k) => label(c, 'inbox.intent', k))}</small></td><td>${counts(c, s.platforms, platformName)}</td><td data-handled><span data-announced>${announcedText(c, s)}</span>${links}<br><span data-members>${membersText(c, s.handled.members)}</span></td><td data-state="${s.status}">${surgeStateText(c, s)}</td></tr>`;
  })}</tbody></table>${
    options.more
      ? html`<p class="muted">${t(c, 'surgeMarks.more', { n: surges.length })} <a href="/surges">${t(c, 'surges.title')}</a></p>`
      : ''
  }<p class="muted"><small>${t(c, 'surgeMarks.note')}</small></p>`;
}

export const SURGE_CSV_COLUMNS = [
  'surge_id',
  'first_at',
  'last_at',
  'detected_at',
  'size',
  'watch',
  'intents',
  'platforms',
  'announced',
  'members',
  'waiting',
  'replied',
  'dismissed',
  'escalated',
  'deleted',
  'handling',
  'status',
  'closed_at',
  'closed_by',
  'example',
] as const;

const pairs = (values: Readonly<Record<string, number>>) =>
  Object.entries(values)
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');

/** The surges as CSV lines (header first), for the digest's CSV. */
export function surgeCsv(surges: readonly SurgePeriodSummary[]): string {
  return `${csvLine(SURGE_CSV_COLUMNS)}${surges
    .map((s) => {
      const m = s.handled.members;
      return csvLine([
        s.id,
        s.firstAt.toISOString(),
        s.lastAt.toISOString(),
        s.detectedAt.toISOString(),
        s.count,
        s.watchId,
        pairs(s.intents),
        pairs(s.platforms),
        s.handled.announcements.map((a) => `${a.platform}:${a.state}`).join(' '),
        m.total,
        m.waiting,
        m.replied,
        m.dismissed,
        m.escalated,
        m.deleted,
        s.handling.join(' '),
        s.status,
        s.closedAt?.toISOString() ?? null,
        s.closedBy,
        s.example,
      ]);
    })
    .join('')}`;
}

/** A surge as JSON (the dashboard's and the digest's API): its facts, times as ISO 8601, and its page. */
export const surgeJson = (s: SurgePeriodSummary) => ({
  ...s,
  detectedAt: s.detectedAt.toISOString(),
  firstAt: s.firstAt.toISOString(),
  lastAt: s.lastAt.toISOString(),
  closedAt: s.closedAt?.toISOString() ?? null,
  href: surgeHref(s),
});
