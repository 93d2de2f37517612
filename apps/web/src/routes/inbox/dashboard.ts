import { html } from 'hono/html';
import { clockText, formatNumber } from '../../format.ts';
import { t } from '../../i18n.ts';
import type { Html } from '../../layout.ts';
import { surgeTable } from '../surge-marks.ts';
import { INTENTS, PLATFORMS } from './filters.ts';
import { type C, type DashboardView, durationText, label } from './shared.ts';
import { platformName, type WatchNames } from './views.ts';

/** The periods offered (days); the API accepts any 1–366. */
export const PERIODS = [7, 30, 90] as const;
/** Time zones offered in the form; any IANA name is accepted in the query. */
export const TIME_ZONES = ['UTC', 'Asia/Tokyo'] as const;

export const TIME_ZONE_SET = new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);

interface Series {
  readonly key: string;
  readonly label: string;
  readonly color: string;
}

/** The surge marks' colour (no series uses it). */
const SURGE_COLOR = '#0e7490';

const PLATFORM_COLORS: Record<string, string> = { x: '#1d232a', mastodon: '#6364ff' };
const INTENT_COLORS: Record<string, string> = {
  praise: '#12b76a',
  complaint: '#d92d20',
  trouble: '#f79009',
  question: '#2e90fa',
  neutral: '#98a2b3',
};

/** A round upper bound for the y axis (1, 2, 5 × 10ⁿ). */
function niceMax(value: number): number {
  if (value <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const fmt = formatNumber;

/**
 * A stacked bar chart as inline SVG, drawn on the server: one bar per day, one colour per series.
 * Accessible: `role="img"` named by its <title> and described by a <desc> summary; each segment has
 * its own <title> (a tooltip in browsers); the figures are also in a table next to it.
 */
export function stackedBars(
  c: C,
  options: {
    readonly id: string;
    readonly title: string;
    readonly days: DashboardView['daily'];
    readonly series: readonly Series[];
    readonly value: (day: DashboardView['daily'][number], key: string) => number;
    /** Days marked above their bar (surges): matches in surges and how many surges, by the day's index. */
    readonly marks?: DashboardView['surges']['daily'];
  },
): Html {
  const { id, title, days, series, value } = options;
  const marks = options.marks ?? [];
  const marked = marks.some((m) => m.matches > 0);
  const totals = days.map((d) => series.reduce((sum, s) => sum + value(d, s.key), 0));
  const max = Math.max(0, ...totals);
  const top = niceMax(max);
  const left = 44;
  const bottom = 28;
  const height = 220;
  // Room above the tallest bar for a surge mark.
  const above = 14;
  const plot = height - bottom - above;
  // The plot is as wide as the card (880 units) whatever the period; bars stay slim for short ones.
  const step = Math.max(6, Math.floor(880 / Math.max(1, days.length)));
  const barWidth = Math.max(3, Math.min(48, Math.round(step * 0.7)));
  const width = left + step * days.length + 10;
  const y = (v: number) => above + plot - (v / top) * plot;
  const labelEvery = Math.ceil(days.length / 10);
  const total = totals.reduce((a, b) => a + b, 0);

  const bars = days.map((d, i) => {
    let base = 0;
    const x = left + i * step + (step - barWidth) / 2;
    const segments = series.map((s) => {
      const v = value(d, s.key);
      if (v === 0) return '';
      const y0 = y(base);
      base += v;
      const y1 = y(base);
      return html`<rect x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${barWidth}" height="${Math.max(0.5, y0 - y1).toFixed(1)}" fill="${s.color}"><title>${d.day} ${s.label}: ${fmt(v)}</title></rect>`;
    });
    const mark = marks[i];
    const flag =
      mark !== undefined && mark.matches > 0
        ? html`<g data-surge-day="${d.day}"><title>${t(c, 'dashboard.surgeDay', { day: d.day, n: fmt(mark.matches), s: fmt(mark.surges) })}</title><path d="M${(x + barWidth / 2 - 5).toFixed(1)} ${(y(base) - 11).toFixed(1)} h10 l-5 8 z" fill="${SURGE_COLOR}"/><rect x="${x.toFixed(1)}" y="${y(base).toFixed(1)}" width="${barWidth}" height="${Math.max(0.5, y(0) - y(base)).toFixed(1)}" fill="none" stroke="${SURGE_COLOR}" stroke-width="1.5" stroke-dasharray="3 2"/></g>`
        : '';
    const tick =
      i % labelEvery === 0
        ? html`<text x="${(left + i * step + step / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="10" fill="#5b6770">${d.day.slice(5)}</text>`
        : '';
    return html`<g>${segments}</g>${flag}${tick}`;
  });
  const grid = [0, top / 2, top].map(
    (v) =>
      html`<line x1="${left}" x2="${width - 5}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#d9dee3" stroke-width="1"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10" fill="#5b6770">${fmt(v)}</text>`,
  );
  const surgeDays = marks.filter((m) => m.matches > 0).length;
  const desc = `${t(c, 'dashboard.chartDesc', { days: days.length, total: fmt(total), max: fmt(max) })}${
    marked ? t(c, 'dashboard.chartDescSurges', { n: surgeDays }) : ''
  }`;
  return html`<figure class="chart" style="margin:0">
<svg role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px;height:auto" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-t">${title}</title><desc id="${id}-d">${desc}</desc>
${grid}${bars}</svg>
<figcaption><ul class="legend" style="list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.3rem 0">${series.map(
    (s) =>
      html`<li><span aria-hidden="true" style="display:inline-block;width:.8em;height:.8em;background:${s.color};margin-right:.3em"></span>${s.label}</li>`,
  )}${marked ? html`<li data-legend="surge"><span aria-hidden="true" style="color:${SURGE_COLOR};margin-right:.3em">▼</span>${t(c, 'dashboard.surgeLegend')}</li>` : ''}</ul></figcaption>
<details><summary>${t(c, 'dashboard.tableFallback')}</summary>
<table id="${id}-table"><thead><tr><th scope="col">${t(c, 'dashboard.day')}</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}<th scope="col">${t(c, 'dashboard.total')}</th>${marked ? html`<th scope="col">${t(c, 'dashboard.inSurgesColumn')}</th>` : ''}</tr></thead>
<tbody>${days.map(
    (d, i) =>
      html`<tr><th scope="row">${d.day}</th>${series.map((s) => html`<td>${fmt(value(d, s.key))}</td>`)}<td>${fmt(totals[i] ?? 0)}</td>${marked ? html`<td>${fmt(marks[i]?.matches ?? 0)}</td>` : ''}</tr>`,
  )}</tbody></table></details></figure>`;
}

/** The series of a chart: the known values, then any other value the data holds (a new platform). */
function seriesOf(
  known: readonly string[],
  present: Iterable<string>,
  name: (key: string) => string,
  colors: Record<string, string>,
): Series[] {
  const keys = [...known, ...[...new Set(present)].filter((k) => !known.includes(k)).sort()];
  const spare = ['#7a5af8', '#ee46bc', '#15b79e', '#667085'];
  return keys.map((key, i) => ({
    key,
    label: name(key),
    color: colors[key] ?? spare[i % spare.length] ?? '#667085',
  }));
}

function card(title: string, value: string, note: string | Html, id: string) {
  return html`<div class="card" style="margin:0" data-figure="${id}"><div class="muted">${title}</div><div style="font-size:1.8rem;font-weight:700">${value}</div><small class="muted">${note}</small></div>`;
}

/** A template by its name (its id on hover); a template since removed by its id. */
function templateCell(id: string, names: ReadonlyMap<string, string>) {
  const name = names.get(id);
  return name === undefined || name === id ? id : html`<span title="${id}">${name}</span>`;
}

export function dashboardBody(
  c: C,
  stats: DashboardView,
  form: { days: number; timeZone: string },
  templateNames: ReadonlyMap<string, string> = new Map(),
  watchNames: WatchNames = new Map(),
) {
  const lang = c.get('lang');
  const { totals, surges } = stats;
  const none = t(c, 'dashboard.none');
  const rate = totals.responseRate === null ? none : `${(totals.responseRate * 100).toFixed(1)}%`;
  const median =
    totals.medianFirstResponseSeconds === null ? none : durationText(lang, totals.medianFirstResponseSeconds);
  // What surges make of the figures: their members are many matches reviewed as one.
  const inSurges = surges.matches > 0;
  const outsideRate =
    surges.outside.responseRate === null ? none : `${(surges.outside.responseRate * 100).toFixed(1)}%`;
  const outsideMedian =
    surges.outside.medianFirstResponseSeconds === null
      ? none
      : durationText(lang, surges.outside.medianFirstResponseSeconds);
  const last = stats.daily[stats.daily.length - 1]?.day ?? '';
  const first = stats.daily[0]?.day ?? '';
  // The organisation's zone first, then the usual ones and the one asked for.
  const zones = [...new Set([c.get('timeZone'), ...TIME_ZONES, form.timeZone])];
  const platformSeries = seriesOf(
    PLATFORMS,
    stats.daily.flatMap((d) => Object.keys(d.byPlatform)),
    platformName,
    PLATFORM_COLORS,
  );
  const intentSeries = seriesOf(
    INTENTS,
    stats.daily.flatMap((d) => Object.keys(d.byIntent)),
    (k) => label(c, 'inbox.intent', k),
    INTENT_COLORS,
  );
  return html`<form method="get" action="/dashboard" class="filters card" style="display:flex;gap:1rem;align-items:end;flex-wrap:wrap">
<div><label for="d-days">${t(c, 'dashboard.period')}</label><select id="d-days" name="days">${PERIODS.map(
    (n) =>
      html`<option value="${n}"${n === form.days ? html` selected` : ''}>${t(c, 'dashboard.days', { n })}</option>`,
  )}${(PERIODS as readonly number[]).includes(form.days) ? '' : html`<option value="${form.days}" selected>${t(c, 'dashboard.days', { n: form.days })}</option>`}</select></div>
<div><label for="d-tz">${t(c, 'dashboard.timeZone')}</label><select id="d-tz" name="tz">${zones.map(
    (z) => html`<option value="${z}"${z === form.timeZone ? html` selected` : ''}>${z}</option>`,
  )}</select></div>
<div><button type="submit">${t(c, 'dashboard.show')}</button></div>
${c.get('user')?.role === 'admin' ? html`<div><a href="/organization">${t(c, 'dashboard.organizationTimeZone', { tz: c.get('timeZone') })}</a></div>` : ''}
</form>
<p class="muted" id="dashboard-period">${t(c, 'dashboard.range', { from: first, to: last, tz: stats.period.timeZone })} · <time datetime="${stats.period.to.toISOString()}" data-as-of>${t(c, 'dashboard.asOf', { time: clockText(stats.period.to, stats.period.timeZone) })}</time> · <a href="/dashboard?${new URLSearchParams({ days: String(form.days), tz: form.timeZone, refresh: '1' }).toString()}" id="dashboard-refresh">${t(c, 'dashboard.refresh')}</a></p>
<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem">
${card(t(c, 'dashboard.matches'), fmt(totals.matches), html`${t(c, 'dashboard.matchesNote', { n: fmt(totals.suppressed) })}${inSurges ? html`<br><a href="#surges" data-note="in-surges">${t(c, 'dashboard.matchesInSurges', { n: fmt(surges.matches), s: fmt(surges.count) })}</a>` : ''}`, 'matches')}
${card(t(c, 'dashboard.responseRate'), rate, html`${t(c, 'dashboard.responseRateNote', { n: fmt(totals.responded), total: fmt(totals.unsuppressed) })}${inSurges ? html`<br><span data-note="outside-surges">${t(c, 'dashboard.responseRateOutside', { rate: outsideRate, n: fmt(surges.outside.responded), total: fmt(surges.outside.unsuppressed) })}</span>` : ''}`, 'response-rate')}
${card(t(c, 'dashboard.median'), median, inSurges ? html`<span data-note="outside-surges">${t(c, 'dashboard.medianOutside', { median: outsideMedian })}</span>` : '', 'median')}
${card(t(c, 'dashboard.escalated'), fmt(totals.escalated), t(c, 'dashboard.escalatedNote', { n: fmt(totals.escalated), d: fmt(totals.escalationDecisions) }), 'escalated')}
${card(t(c, 'dashboard.replies'), fmt(totals.replies), t(c, 'dashboard.repliesNote'), 'replies')}
</div>
<div class="card"><h2>${t(c, 'dashboard.byPlatform')}</h2>${stackedBars(c, {
    id: 'by-platform',
    title: t(c, 'dashboard.byPlatform'),
    days: stats.daily,
    series: platformSeries,
    value: (d, key) => d.byPlatform[key] ?? 0,
    marks: surges.daily,
  })}</div>
<div class="card"><h2>${t(c, 'dashboard.byIntent')}</h2>${stackedBars(c, {
    id: 'by-intent',
    title: t(c, 'dashboard.byIntent'),
    days: stats.daily,
    series: intentSeries,
    value: (d, key) => d.byIntent[key] ?? 0,
    marks: surges.daily,
  })}</div>
<div class="card" style="overflow-x:auto"><h2 id="surges">${t(c, 'surgeMarks.title')}</h2>${surgeTable(
    c,
    surges.list,
    {
      id: 'surges-table',
      timeZone: stats.period.timeZone,
      watchNames,
      more: surges.more,
    },
  )}</div>
<div class="grid2" style="display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 1rem">
<div class="card"><h2>${t(c, 'dashboard.repliesByTemplate')}</h2>${
    stats.replies.length === 0
      ? html`<p class="muted">${t(c, 'dashboard.empty')}</p>`
      : html`<table id="replies-table"><thead><tr><th>${t(c, 'dashboard.category')}</th><th>${t(c, 'dashboard.template')}</th><th>${t(c, 'dashboard.count')}</th><th>${t(c, 'dashboard.posted')}</th></tr></thead><tbody>${stats.replies.map(
          (r) =>
            html`<tr><td>${label(c, 'inbox.category', r.category)}</td><td>${r.templateId === null ? html`<span class="muted">${t(c, 'dashboard.noTemplate')}</span>` : templateCell(r.templateId, templateNames)}</td><td>${fmt(r.count)}</td><td>${fmt(r.posted)}</td></tr>`,
        )}</tbody></table>`
  }</div>
<div class="card"><h2>${t(c, 'dashboard.suppressedByReason')}</h2>${
    stats.suppressedByReason.length === 0
      ? html`<p class="muted">${t(c, 'dashboard.empty')}</p>`
      : html`<table id="reasons-table"><thead><tr><th>${t(c, 'dashboard.reason')}</th><th>${t(c, 'dashboard.count')}</th></tr></thead><tbody>${stats.suppressedByReason.map(
          (r) => html`<tr><td>${label(c, 'inbox.reason', r.reason)}</td><td>${fmt(r.count)}</td></tr>`,
        )}</tbody></table>`
  }</div>
</div>
<p class="muted"><small>${t(c, 'dashboard.cohortNote')}</small></p>`;
}
