import type { EffectFigures, SurgePeriodSummary } from '@kikimimi/db';
import { fillText } from '@kikimimi/runtime';
import type { DigestView } from '../pipeline/digest.ts';
import { type Lang, t } from './i18n.ts';
import type { ClassicMessage } from './port.ts';
import { escapeDisplayName, quote } from './safe-text.ts';

/*
 * The digest as one Discord message: the period, the effect of our replies, what customers said back
 * by reading, the surges (when, how big, where, how they were handled) and the voices (department, the
 * customer's words, the summary). Everything that came from outside is quoted; the message pings
 * nobody. Discord allows 2,000 characters: surges and voices are listed while they fit, and the
 * console's /digest page has the whole digest.
 */

const MAX = 2000;

/** Discord nonces are at most 25 characters: one per period, by its end. */
export const digestNonce = (to: Date) => `dg${to.getTime().toString(36)}`;

/** `YYYY-MM-DD HH:mm` in the time zone. */
function localTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

export function durationWords(seconds: number | null, lang: Lang): string {
  if (seconds === null) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return fillText(t(lang, 'digestSeconds'), { n: s });
  const minutes = Math.round(s / 60);
  if (minutes < 60) return fillText(t(lang, 'digestMinutes'), { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return fillText(t(lang, 'digestHours'), { h: hours, m: minutes % 60 });
  return fillText(t(lang, 'digestDays'), { d: Math.floor(hours / 24), h: hours % 24 });
}

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);

function clipChars(text: string, max: number): string {
  const chars = [...text.replace(/\s+/gu, ' ').trim()];
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

export function effectLine(figures: EffectFigures, lang: Lang): string {
  return fillText(t(lang, 'digestEffect'), {
    sent: figures.sent,
    followUps: figures.followUps,
    reaction: percent(figures.reactionRate),
    reacted: figures.reacted,
    positive: percent(figures.positiveRate),
    positives: figures.positive,
    median: durationWords(figures.medianReactionSeconds, lang),
    p90: durationWords(figures.p90ReactionSeconds, lang),
  });
}

const PLATFORM_NAME: Readonly<Record<string, string>> = { x: 'X', mastodon: 'Mastodon', bluesky: 'Bluesky' };
const platformName = (platform: string) => PLATFORM_NAME[platform] ?? quote(platform);

const MEMBER_TEXT = {
  waiting: 'digestSurgeWaiting',
  replied: 'digestSurgeReplied',
  dismissed: 'digestSurgeDismissed',
  escalated: 'digestSurgeEscalated',
  deleted: 'digestSurgeDeleted',
} as const;

/**
 * One surge on one line: "11-24 09:12〜10:05 · **1030 件** · brand · X 1000 / Mastodon 30 · 告知: X ·
 * 未対応 0 · 対応不要 1020 · 返信 10 · 終了" (times in the digest's zone; waiting always shown, the
 * other outcomes when some members had them).
 */
export function surgeLine(
  surge: SurgePeriodSummary,
  timeZone: string,
  lang: Lang,
  watchName: string = surge.watchId,
): string {
  const first = localTime(surge.firstAt, timeZone);
  const last = localTime(surge.lastAt, timeZone);
  // "MM-DD HH:mm", the end's day left out when it is the same.
  const when = fillText(t(lang, 'digestSurgeWhen'), {
    from: first.slice(5),
    to: last.slice(0, 10) === first.slice(0, 10) ? last.slice(11) : last.slice(5),
  });
  const platforms = Object.entries(surge.platforms)
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${platformName(p)} ${n}`)
    .join(' / ');
  const announcements = surge.handled.announcements;
  const announced =
    announcements.length === 0
      ? t(lang, 'digestSurgeNotAnnounced')
      : fillText(t(lang, 'digestSurgeAnnounced'), {
          where: announcements
            .map((a) =>
              a.state === 'sent'
                ? platformName(a.platform)
                : fillText(
                    t(
                      lang,
                      a.state === 'failed'
                        ? 'digestSurgeAnnouncementFailed'
                        : 'digestSurgeAnnouncementPending',
                    ),
                    { platform: platformName(a.platform) },
                  ),
            )
            .join(t(lang, 'digestSurgeAnd')),
        });
  const members = surge.handled.members;
  const outcomes = (Object.keys(MEMBER_TEXT) as (keyof typeof MEMBER_TEXT)[])
    .filter((k) => k === 'waiting' || members[k] > 0)
    .map((k) => fillText(t(lang, MEMBER_TEXT[k]), { n: members[k] }));
  return [
    when,
    `**${fillText(t(lang, 'digestSurgeSize'), { n: surge.count })}**`,
    quote(clipChars(watchName, 40)),
    platforms,
    announced,
    ...outcomes,
    t(lang, surge.status === 'open' ? 'digestSurgeOpen' : 'digestSurgeClosed'),
  ]
    .filter((part) => part !== '')
    .join(' · ');
}

export function digestMessage(view: DigestView, lang: Lang): ClassicMessage {
  const { effect } = view;
  const lines = [
    fillText(t(lang, 'digestTitle'), {
      from: localTime(view.from, view.timeZone),
      to: localTime(view.to, view.timeZone),
      tz: view.timeZone,
    }),
    effectLine(effect.totals, lang),
    fillText(t(lang, 'digestAnswers'), {
      thanks: effect.answersByKind.thanks,
      unhappy: effect.answersByKind.unhappy,
      question: effect.answersByKind.question,
      other: effect.answersByKind.other,
    }),
  ];
  if (effect.byPlatform.length > 1) {
    lines.push(
      effect.byPlatform
        .map(
          (p) => `${quote(p.platform)}: ${p.sent} · ${percent(p.reactionRate)} · ${percent(p.positiveRate)}`,
        )
        .join(' ／ '),
    );
  }
  let content = lines.join('\n');
  const tail = fillText(t(lang, 'digestMore'), {
    from: view.from.toISOString(),
    to: view.to.toISOString(),
  });
  const fits = (line: string) => [...content].length + [...line].length + [...tail].length + 2 <= MAX;
  // Surges first: a flood is what the team most needs to see; each line only while it fits.
  let surgesListed = 0;
  if (view.surges.length > 0) {
    const head = `\n\n${fillText(t(lang, 'digestSurges'), { n: view.surges.length, more: view.moreSurges ? '+' : '' })}`;
    if (fits(head)) {
      content += head;
      for (const surge of view.surges) {
        const line = `\n• ${surgeLine(surge, view.timeZone, lang, view.watchNames.get(surge.watchId))}`;
        if (!fits(line)) break;
        content += line;
        surgesListed++;
      }
    }
  }
  const voicesHead = `\n\n${
    view.voices.length === 0
      ? t(lang, 'digestNoVoices')
      : fillText(t(lang, 'digestVoices'), { n: view.voices.length, more: view.moreVoices ? '+' : '' })
  }`;
  const voicesShown = fits(voicesHead);
  if (voicesShown) content += voicesHead;
  let listed = 0;
  for (const voice of voicesShown ? view.voices : []) {
    const summary = voice.summary === '' ? '' : ` — ${quote(clipChars(voice.summary, 160))}`;
    const line = `\n• **${escapeDisplayName(voice.department)}** ${escapeDisplayName(`@${voice.author.handle}`)}: 「${quote(clipChars(voice.postText, 120))}」${summary}`;
    if (!fits(line)) break;
    content += line;
    listed++;
  }
  if (listed < view.voices.length || view.moreVoices || surgesListed < view.surges.length || view.moreSurges)
    content += `\n${tail}`;
  return { content, embeds: [], components: [] };
}
