import type {
  AnnouncementRecord,
  SurgeEscalationRecord,
  SurgeRecord,
  SurgeReplyProgress,
} from '@kikimimi/db';
import { ButtonStyle, ComponentType } from 'discord.js';
import type { Store } from '../ports.ts';
import { type Lang, t } from './i18n.ts';
import type { ClassicMessage } from './port.ts';
import { CUSTOM_ID_MAX } from './review-message.ts';
import { quote } from './safe-text.ts';

/**
 * A surge's one review message: size, rate over time, first and latest, representative posts, intents,
 * platforms, how it was handled (the replies to its members counted, where it was escalated); buttons
 * for the whole surge. custom_ids: `kks:<action>:<uuid>` where the surge's id is `surge:<uuid>` — r reply
 * to every member still waiting (form), rm its submission, a announce (form), am its submission,
 * e escalate (the targets), et:<target> to that target, d dismiss all, c close.
 */
const ACTIONS = new Set(['r', 'rm', 'a', 'am', 'e', 'et', 'd', 'c']);
export type SurgeAction = 'r' | 'rm' | 'a' | 'am' | 'e' | 'et' | 'd' | 'c';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
const SURGE_PREFIX = 'surge:';

export const surgeIds = {
  custom: (action: Exclude<SurgeAction, 'et'>, surgeId: string) =>
    `kks:${action}:${surgeId.slice(SURGE_PREFIX.length)}`,
  /** Null for a target too long to fit in a custom_id (it is not offered as a button). */
  escalateTo: (surgeId: string, target: string): string | null => {
    const id = `kks:et:${surgeId.slice(SURGE_PREFIX.length)}:${target}`;
    return id.length > CUSTOM_ID_MAX ? null : id;
  },
};

/** A surge custom_id back from Discord, or null for anything else. */
export function parseSurgeCustomId(
  customId: string,
): { action: SurgeAction; surgeId: string; target?: string } | null {
  if (customId.length > CUSTOM_ID_MAX) return null;
  const [prefix, action, uuid, ...rest] = customId.split(':');
  if (prefix !== 'kks' || action === undefined || !ACTIONS.has(action)) return null;
  if (uuid === undefined || !UUID.test(uuid)) return null;
  const surgeId = `${SURGE_PREFIX}${uuid}`;
  // A target may itself contain ':' (route names are free text).
  const target = rest.join(':');
  if (action === 'et') return target === '' ? null : { action, surgeId, target };
  return rest.length > 0 ? null : { action: action as SurgeAction, surgeId };
}

/** Discord nonces are at most 25 characters: one per surge. */
export const surgeNonce = (surgeId: string) =>
  `s${surgeId.slice(SURGE_PREFIX.length).replace(/-/gu, '')}`.slice(0, 25);

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const time = (at: Date) => `<t:${Math.floor(at.getTime() / 1000)}:T>`;
const BARS = '▁▂▃▄▅▆▇█';
const PLATFORM_NAME: Readonly<Record<string, string>> = { x: 'X', mastodon: 'Mastodon', bluesky: 'Bluesky' };

/** The last `minutes` minutes of the per-minute counts as a bar line with the peak. */
export function rateLine(perMinute: SurgeRecord['perMinute'], lastAt: Date, minutes = 15): string {
  const end = Math.floor(lastAt.getTime() / 60_000) * 60_000;
  const byMinute = new Map(perMinute.map((p) => [p.minute, p.count]));
  const counts: number[] = [];
  for (let m = end - (minutes - 1) * 60_000; m <= end; m += 60_000) counts.push(byMinute.get(m) ?? 0);
  const peak = Math.max(1, ...counts);
  const bars = counts
    .map((c) => (c === 0 ? '·' : BARS[Math.min(7, Math.floor((c / peak) * 7.999))]))
    .join('');
  return `\`${bars}\` peak ${peak}/min`;
}

const share = (counts: Readonly<Record<string, number>>, name: (k: string) => string) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${name(k)} ${n}`)
    .join(' · ') || '—';

/** What else the message shows besides the surge: the replies to its members and its escalations. */
export interface SurgeMessageExtras {
  readonly replies?: SurgeReplyProgress;
  readonly escalations?: readonly SurgeEscalationRecord[];
  /** The watch's name in the configuration (its id when it has none, or is gone). */
  readonly watchName?: string | undefined;
}

export function buildSurgeMessage(
  surge: SurgeRecord,
  announcements: readonly AnnouncementRecord[],
  lang: Lang,
  extras: SurgeMessageExtras = {},
): ClassicMessage {
  const open = surge.status === 'open';
  const handling = surge.handling.map((h) =>
    t(
      lang,
      (
        {
          announced: 'announced',
          dismissed: 'surgeDismissed',
          escalated: 'surgeEscalated',
          replied: 'surgeReplied',
          closed: 'surgeClosed',
        } as const
      )[h],
    ),
  );
  const announced = announcements.map(
    (a) => `${PLATFORM_NAME[a.platform] ?? a.platform}: ${a.state}${a.url ? ` ${a.url}` : ''}`,
  );
  const fields = [
    {
      name: t(lang, 'watch'),
      value: clip(
        extras.watchName === undefined || extras.watchName === surge.watchId
          ? surge.watchId
          : `${extras.watchName} (${surge.watchId})`,
        200,
      ),
      inline: true,
    },
    {
      name: t(lang, 'intent'),
      value: clip(
        share(surge.intents, (k) => t(lang, k as 'trouble')),
        500,
      ),
      inline: true,
    },
    {
      name: t(lang, 'surgePlatforms'),
      value: share(surge.platforms, (k) => PLATFORM_NAME[k] ?? k),
      inline: true,
    },
    { name: t(lang, 'surgeFirst'), value: time(surge.firstAt), inline: true },
    { name: t(lang, 'surgeLatest'), value: time(surge.lastAt), inline: true },
    { name: t(lang, 'surgeRate'), value: rateLine(surge.perMinute, surge.lastAt) },
    {
      name: t(lang, 'surgeExamples'),
      value: clip(
        surge.examples.map((e) => quote(clip(e.text.replace(/\s+/gu, ' '), 180))).join('\n') || '—',
        1000,
      ),
    },
  ];
  const escalated =
    extras.escalations !== undefined && extras.escalations.length > 0
      ? `${t(lang, 'surgeEscalatedTo')} ${extras.escalations.map((e) => e.target).join(', ')}`
      : '';
  if (handling.length > 0 || announced.length > 0 || escalated !== '') {
    fields.push({
      name: t(lang, 'surgeHandling'),
      value: clip([handling.join(' · '), escalated, ...announced].filter((l) => l !== '').join('\n'), 1000),
    });
  }
  const replies = extras.replies;
  if (replies !== undefined && replies.queued + replies.sent + replies.failed + replies.skipped > 0) {
    fields.push({ name: t(lang, 'surgeReplies'), value: t(lang, 'surgeReplyCounts', { ...replies }) });
  }
  const button = (
    action: Exclude<SurgeAction, 'et'>,
    label: string,
    style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger,
  ) => ({
    type: ComponentType.Button as const,
    custom_id: surgeIds.custom(action, surge.id),
    label,
    style,
  });
  const buttons = [
    button('r', t(lang, 'surgeReply'), ButtonStyle.Primary),
    button('a', t(lang, 'surgeAnnounce'), ButtonStyle.Primary),
    button('e', t(lang, 'surgeEscalate'), ButtonStyle.Secondary),
    button('d', t(lang, 'surgeDismiss'), ButtonStyle.Secondary),
    ...(open ? [button('c', t(lang, 'surgeClose'), ButtonStyle.Danger)] : []),
  ];
  return {
    content: '',
    embeds: [
      {
        title: t(lang, open ? 'surgeTitle' : 'surgeClosedTitle', { count: surge.count }),
        color: open ? 0xe74c3c : 0x95a5a6,
        fields,
        footer: { text: surge.id },
      },
    ],
    components: [{ type: ComponentType.ActionRow, components: buttons }],
  };
}

/** The surge's message as it should look now, read fresh from the store. */
export async function currentSurgeMessage(
  store: Pick<Store, 'surges' | 'config'>,
  surge: SurgeRecord,
  lang: Lang,
): Promise<ClassicMessage> {
  const [announcements, replies, escalations, { config }] = await Promise.all([
    store.surges.announcements(surge.id),
    store.surges.replyProgress(surge.id),
    store.surges.escalations(surge.id),
    store.config.current(),
  ]);
  const watchName = config.watches.find((w) => w.id === surge.watchId)?.name;
  return buildSurgeMessage(surge, announcements, lang, { replies, escalations, watchName });
}
