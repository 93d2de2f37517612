import type { EffectFigures } from '@kikimimi/db';
import { fillText } from '@kikimimi/runtime';
import type { DigestView } from '../pipeline/digest.ts';
import { type Lang, t } from './i18n.ts';
import type { BotMessage } from './port.ts';
import { escapeDisplayName, quote } from './safe-text.ts';

/*
 * The digest as one Discord message: the period, the effect of our replies, what customers said back
 * by reading, and the voices (department, the customer's words, the summary). Everything that came
 * from outside is quoted; the message pings nobody. Discord allows 2,000 characters: voices are
 * clipped to fit, and the console's /digest page has the whole digest.
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

export function digestMessage(view: DigestView, lang: Lang): BotMessage {
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
  lines.push('');
  if (view.voices.length === 0) {
    lines.push(t(lang, 'digestNoVoices'));
  } else {
    lines.push(
      fillText(t(lang, 'digestVoices'), { n: view.voices.length, more: view.moreVoices ? '+' : '' }),
    );
  }
  let content = lines.join('\n');
  const tail = fillText(t(lang, 'digestMore'), {
    from: view.from.toISOString(),
    to: view.to.toISOString(),
  });
  let listed = 0;
  for (const voice of view.voices) {
    const summary = voice.summary === '' ? '' : ` — ${quote(clipChars(voice.summary, 160))}`;
    const line = `\n• **${escapeDisplayName(voice.department)}** ${escapeDisplayName(`@${voice.author.handle}`)}: 「${quote(clipChars(voice.postText, 120))}」${summary}`;
    if ([...content].length + [...line].length + [...tail].length + 2 > MAX) break;
    content += line;
    listed++;
  }
  if (listed < view.voices.length || view.moreVoices) content += `\n${tail}`;
  return { content, embeds: [], components: [] };
}
