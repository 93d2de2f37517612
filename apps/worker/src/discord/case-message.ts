import type { AnswerReading, CaseEvent, CaseState, MatchRecord } from '@kikimimi/db';
import { fillText } from '@kikimimi/runtime';
import { type Lang, t } from './i18n.ts';
import type { ClassicMessage } from './port.ts';
import { escapeDisplayName, quote, safeLinkUrl } from './safe-text.ts';

/*
 * The messages of a case's Discord thread (under the review message): the customer's answers and
 * reactions, and teammates' notes, assignments and state changes — never pinging anyone.
 */

const KIND_TEXT = {
  thanks: 'answerThanks',
  unhappy: 'answerUnhappy',
  question: 'answerQuestion',
  other: 'answerOther',
} as const;

const STATE_TEXT = { open: 'caseOpen', waiting: 'caseWaiting', resolved: 'caseResolved' } as const;

export const answerKindText = (reading: AnswerReading | null, lang: Lang) =>
  t(lang, KIND_TEXT[reading?.kind ?? 'other']);

export const caseStateText = (state: CaseState, lang: Lang) => t(lang, STATE_TEXT[state]);

/** Discord message content is at most 2,000 characters (a case event leaves room for a prefix). */
export const clip = (text: string, max = 1900) =>
  [...text].length <= max ? text : `${[...text].slice(0, max - 1).join('')}…`;

const plain = (content: string): ClassicMessage => ({ content: clip(content), embeds: [], components: [] });

/** The name of the thread under a review message: its customer's, or those of the reviews sharing it. */
export const threadName = (matches: readonly Pick<MatchRecord, 'post'>[], lang: Lang) =>
  fillText(t(lang, 'threadName'), {
    handle: matches.map((m) => `@${m.post.author.handle}`).join(', '),
  });

const handleOf = (event: CaseEvent) => escapeDisplayName(`@${event.authorHandle ?? '?'}`);
const nameOf = (event: CaseEvent) => escapeDisplayName(event.actor?.name || event.actor?.id || '?');

/** One case event as a thread message; null for what the thread does not show. */
export function caseEventMessage(event: CaseEvent, lang: Lang): ClassicMessage | null {
  switch (event.kind) {
    case 'answer': {
      const head = fillText(t(lang, 'answered'), {
        handle: handleOf(event),
        kind: answerKindText(event.reading, lang),
      });
      const link =
        event.platform === null
          ? null
          : safeLinkUrl(event.url, event.platform, event.authorHandle ?? undefined);
      const signals = event.reading?.signals.length
        ? `\n${fillText(t(lang, 'signalsOf'), { signals: quote(event.reading.signals.slice(0, 8).join(' · ')) })}`
        : '';
      const body = quote(event.text)
        .split('\n')
        .map((line) => `> ${line}`)
        .join('\n');
      return plain(`${head}\n${clip(body, 1500)}${signals}${link ? `\n<${link}>` : ''}`);
    }
    case 'like':
      return plain(fillText(t(lang, 'liked'), { handle: handleOf(event) }));
    case 'repost':
      return plain(fillText(t(lang, 'reposted'), { handle: handleOf(event) }));
    case 'note':
      return plain(`${fillText(t(lang, 'noted'), { name: nameOf(event) })}\n${quote(event.text)}`);
    case 'assigned': {
      const assignee = event.detail.assignee as { name?: string; id?: string } | null | undefined;
      return plain(
        assignee
          ? fillText(t(lang, 'assignedTo'), {
              name: nameOf(event),
              assignee: escapeDisplayName(assignee.name || assignee.id || '?'),
            })
          : fillText(t(lang, 'unassigned'), { name: nameOf(event) }),
      );
    }
    case 'voice': {
      const department = typeof event.detail.department === 'string' ? event.detail.department : '?';
      const head = fillText(t(lang, 'voiceTagged'), {
        name: nameOf(event),
        department: escapeDisplayName(department),
      });
      return plain(event.text === '' ? head : `${head}\n${quote(event.text)}`);
    }
    case 'state': {
      const state = event.detail.state as CaseState;
      const previous = event.detail.previous as CaseState;
      if (!(state in STATE_TEXT) || !(previous in STATE_TEXT)) return null;
      return plain(
        fillText(t(lang, 'caseStateChanged'), {
          previous: caseStateText(previous, lang),
          state: caseStateText(state, lang),
          name: nameOf(event),
        }),
      );
    }
  }
}

/** The review channel's notice that a customer wrote back and the case is open again. */
export function reopenedMessage(event: CaseEvent, threadId: string, lang: Lang): ClassicMessage {
  return plain(
    fillText(t(lang, 'reopened'), {
      handle: handleOf(event),
      kind: answerKindText(event.reading, lang),
      link: `<#${threadId}>`,
    }),
  );
}

/** Discord nonces are at most 25 characters: one per case event (and one for its channel notice). */
export const eventNonce = (eventId: string, suffix = '') =>
  `${suffix}${eventId.replace(/-/gu, '')}`.slice(0, 25);
