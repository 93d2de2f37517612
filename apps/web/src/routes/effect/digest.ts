import type { CustomerVoice, EffectStats, Repositories, SurgePeriodSummary } from '@kikimimi/db';
import { type Config, organizationTimeZone } from '@kikimimi/rules';
import { html } from 'hono/html';
import { formatNumber } from '../../format.ts';
import { t } from '../../i18n.ts';
import type { Html } from '../../layout.ts';
import { csvLine } from '../inbox/csv.ts';
import { type C, timeTag, zonedText } from '../inbox/shared.ts';
import { watchNamesOf } from '../inbox/views.ts';
import { surgeCsv, surgeTable } from '../surge-marks.ts';
import { effectCards, figuresTable, platformLabel } from './effect.ts';
import './messages.ts';

/*
 * The digest in the console (/digest?from=…&to=…) and as CSV, for people without Discord: the same
 * figures, surges and voices the worker posts to the digest channel (conversations.digest), for any
 * period. Without a period: the latest one the schedule posted (or the last 7 days while it is off).
 */

export interface DigestForm {
  readonly from: Date;
  readonly to: Date;
  /** The period was given (not the default). */
  readonly given: boolean;
  readonly error: string | null;
}

const MAX_DAYS = 400;
/** Voices shown on the page (all of them are in the CSV). */
export const PAGE_VOICES = 200;
/** Surges shown on the page and in the CSV (the console's /surges lists every one). */
export const DIGEST_PAGE_SURGES = 100;

/** The period of a request: `from` and `to` (ISO 8601), or the latest scheduled period. */
export async function parseDigestForm(
  c: C,
  repos: Repositories,
  config: Config,
  now: Date,
): Promise<DigestForm> {
  const fromText = (c.req.query('from') ?? '').trim();
  const toText = (c.req.query('to') ?? '').trim();
  const fallback = await defaultPeriod(repos, config, now);
  if (fromText === '' && toText === '') return { ...fallback, given: false, error: null };
  const from = new Date(fromText);
  const to = new Date(toText);
  const valid =
    /^\d{4}-\d{2}-\d{2}T/u.test(fromText) &&
    /^\d{4}-\d{2}-\d{2}T/u.test(toText) &&
    !Number.isNaN(from.getTime()) &&
    !Number.isNaN(to.getTime()) &&
    from < to &&
    to.getTime() - from.getTime() <= MAX_DAYS * 86_400_000;
  return valid
    ? { from, to, given: true, error: null }
    : { ...fallback, given: false, error: t(c, 'digest.badPeriod') };
}

async function defaultPeriod(repos: Repositories, config: Config, now: Date) {
  const { every, hour } = config.conversations.digest;
  const timeZone = organizationTimeZone(config);
  if (every === 'off') return repos.stats.period({ now, days: 7, timeZone });
  return repos.stats.digestPeriod({ now, every, hour, timeZone });
}

export interface DigestData {
  readonly effect: EffectStats;
  readonly voices: readonly CustomerVoice[];
  readonly more: boolean;
  /** The period's surges with how they were handled, newest first. */
  readonly surges: readonly SurgePeriodSummary[];
  readonly moreSurges: boolean;
}

export async function loadDigestPage(
  repos: Repositories,
  period: { from: Date; to: Date },
): Promise<DigestData> {
  const [effect, voices, surges] = await Promise.all([
    repos.stats.effect(period),
    repos.stats.voices(period, { limit: PAGE_VOICES + 1 }),
    repos.surges.inPeriod(period.from, period.to, DIGEST_PAGE_SURGES + 1),
  ]);
  return {
    effect,
    voices: voices.slice(0, PAGE_VOICES),
    more: voices.length > PAGE_VOICES,
    surges: surges.slice(0, DIGEST_PAGE_SURGES),
    moreSurges: surges.length > DIGEST_PAGE_SURGES,
  };
}

const periodQuery = (form: { from: Date; to: Date }) =>
  `?${new URLSearchParams({ from: form.from.toISOString(), to: form.to.toISOString() }).toString()}`;

export function digestBody(c: C, form: DigestForm, data: DigestData, config: Config): Html {
  const timeZone = c.get('timeZone');
  const { every, channel, hour } = config.conversations.digest;
  const schedule =
    every === 'off'
      ? t(c, 'digest.off')
      : t(c, 'digest.scheduled', {
          channel,
          every: t(c, `digest.every.${every}`),
          hour,
          tz: organizationTimeZone(config),
        });
  const { effect } = data;
  const days = Math.max(1, Math.round((form.to.getTime() - form.from.getTime()) / 86_400_000));
  return html`<form method="get" action="/digest" class="filters card" style="display:flex;gap:1rem;align-items:end;flex-wrap:wrap">
<div><label for="dg-from">${t(c, 'digest.from')}</label><input id="dg-from" name="from" value="${form.from.toISOString()}" size="26"${form.error ? html` aria-invalid="true" aria-describedby="dg-error"` : ''}></div>
<div><label for="dg-to">${t(c, 'digest.to')}</label><input id="dg-to" name="to" value="${form.to.toISOString()}" size="26"></div>
<div><button type="submit">${t(c, 'effect.show')}</button></div>
<p class="hint" style="flex-basis:100%;margin:0">${t(c, 'digest.hint', { schedule })}</p>
${form.error ? html`<p class="error" role="alert" id="dg-error" style="flex-basis:100%;margin:0">${form.error}</p>` : ''}
</form>
<p class="muted" id="digest-period">${t(c, 'effect.range', { from: zonedText(form.from, timeZone), to: zonedText(form.to, timeZone), tz: timeZone })} · <a href="/digest.csv${periodQuery(form)}" download>${t(c, 'digest.csv')}</a> · <a href="/effect?days=${days}">${t(c, 'digest.effectLink')}</a></p>
${effectCards(c, effect.totals)}
<div class="card" style="overflow-x:auto"><h2>${t(c, 'effect.byPlatform')}</h2>${figuresTable(
    c,
    'by-platform',
    t(c, 'effect.platform'),
    effect.byPlatform.map((p) => ({ name: platformLabel(p.platform), figures: p })),
  )}
<p id="answers-by-kind">${t(c, 'effect.answersByKind')}: ${(
    ['thanks', 'unhappy', 'question', 'other'] as const
  ).map(
    (k, i) =>
      html`${i > 0 ? ' · ' : ''}${t(c, `effect.kind.${k}`)} <strong data-kind="${k}">${formatNumber(effect.answersByKind[k])}</strong>`,
  )}</p></div>
<div class="card" style="overflow-x:auto"><h2 id="surges">${t(c, 'surgeMarks.title')} (${formatNumber(data.surges.length)}${data.moreSurges ? '+' : ''})</h2>${surgeTable(
    c,
    data.surges,
    { id: 'surges-table', timeZone, watchNames: watchNamesOf(config), more: data.moreSurges },
  )}</div>
<div class="card" style="overflow-x:auto"><h2 id="voices">${t(c, 'digest.voices')} (${formatNumber(data.voices.length)}${data.more ? '+' : ''})</h2>${
    data.voices.length === 0
      ? html`<p class="muted" id="voices-empty">${t(c, 'digest.noVoices')}</p>`
      : html`<table id="voices-table"><thead><tr><th scope="col">${t(c, 'effect.col.at')}</th><th scope="col">${t(c, 'digest.col.department')}</th><th scope="col">${t(c, 'effect.col.customer')}</th><th scope="col">${t(c, 'digest.col.post')}</th><th scope="col">${t(c, 'digest.col.summary')}</th><th scope="col">${t(c, 'digest.col.lastAnswer')}</th><th scope="col">${t(c, 'digest.col.by')}</th><th scope="col">${t(c, 'effect.col.case')}</th></tr></thead><tbody>${data.voices.map(
          (v) =>
            html`<tr><td>${timeTag(v.at, timeZone)}</td><td><strong>${v.department}</strong></td><td>${platformLabel(v.platform)} @${v.author.handle}</td><td style="white-space:pre-wrap;overflow-wrap:anywhere">${v.postText}</td><td style="overflow-wrap:anywhere">${v.summary}</td><td style="overflow-wrap:anywhere">${v.lastAnswer ? html`${v.lastAnswer.text} <small class="muted">(${t(c, `effect.kind.${v.lastAnswer.kind ?? 'other'}`)})</small>` : ''}</td><td>${v.actor?.name ?? ''}</td><td><a href="/inbox/${v.matchId}">${t(c, 'effect.open')}</a></td></tr>`,
        )}</tbody></table>${data.more ? html`<p class="muted">${t(c, 'digest.more')}</p>` : ''}`
  }</div>`;
}

export const DIGEST_FIGURE_COLUMNS = ['figure', 'value'] as const;
export const DIGEST_VOICE_COLUMNS = [
  'tagged_at',
  'department',
  'summary',
  'platform',
  'author_handle',
  'post_text',
  'post_url',
  'case_state',
  'last_answer',
  'last_answer_reading',
  'tagged_by',
  'match_id',
] as const;

const VOICE_PAGE = 500;
/** Surges in one CSV at most (the repository's limit; a period with more is not a realistic one). */
const MAX_SURGE_ROWS = 1000;
const MAX_VOICE_ROWS = 100_000;

/**
 * The digest as CSV: the period and its figures (figure,value rows), a blank line, the period's
 * surges (one row each, with how they were handled), a blank line, then every voice of the period
 * (one row each, streamed a page at a time).
 */
export function digestCsv(repos: Repositories, period: { from: Date; to: Date }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: { at: Date; id: string } | undefined;
  let sent = 0;
  let step: 'figures' | 'voices' = 'figures';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step === 'figures') {
        step = 'voices';
        const [effect, surges] = await Promise.all([
          repos.stats.effect(period),
          repos.surges.inPeriod(period.from, period.to, MAX_SURGE_ROWS),
        ]);
        const f = effect.totals;
        const rows: Array<readonly [string, string | number | null]> = [
          ['period_from', period.from.toISOString()],
          ['period_to', period.to.toISOString()],
          ['replies_sent', f.sent],
          ['follow_ups', f.followUps],
          ['reacted', f.reacted],
          ['reaction_rate', f.reactionRate],
          ['positive', f.positive],
          ['positive_rate', f.positiveRate],
          ['median_reaction_seconds', f.medianReactionSeconds],
          ['p90_reaction_seconds', f.p90ReactionSeconds],
          ...(['thanks', 'unhappy', 'question', 'other'] as const).map(
            (k) => [`answers_${k}`, effect.answersByKind[k]] as const,
          ),
          ['surges', surges.length],
          ['surge_posts', surges.reduce((n, s) => n + s.count, 0)],
        ];
        controller.enqueue(
          encoder.encode(
            `\uFEFF${csvLine(DIGEST_FIGURE_COLUMNS)}${rows.map((r) => csvLine(r)).join('')}\r\n${surgeCsv(surges)}\r\n${csvLine(DIGEST_VOICE_COLUMNS)}`,
          ),
        );
        return;
      }
      const page = await repos.stats.voices(period, { limit: VOICE_PAGE, before });
      if (page.length > 0) {
        controller.enqueue(
          encoder.encode(
            page
              .map((v) =>
                csvLine([
                  v.at.toISOString(),
                  v.department,
                  v.summary,
                  v.platform,
                  v.author.handle,
                  v.postText,
                  v.postUrl,
                  v.caseState,
                  v.lastAnswer?.text ?? null,
                  v.lastAnswer?.kind ?? null,
                  v.actor?.name ?? null,
                  v.matchId,
                ]),
              )
              .join(''),
          ),
        );
        sent += page.length;
        const last = page[page.length - 1] as CustomerVoice;
        before = { at: last.at, id: last.id };
      }
      if (page.length < VOICE_PAGE || sent >= MAX_VOICE_ROWS) controller.close();
    },
  });
}
