import type { MatchRecord, ReplyRecord, ReviewDecision } from '@kikimimi/db';
import type { Category, ContactRecord } from '@kikimimi/rules';
import { type APIEmbed, ButtonStyle, ComponentType } from 'discord.js';
import { type Lang, t } from './i18n.ts';
import type { BotMessage } from './port.ts';

/** custom_id prefixes: kk:r reply, kk:rm reply modal, kk:e escalate, kk:et escalate to, kk:d dismiss, kk:dm dismiss modal, kk:md manual done. */
export const ids = {
  reply: (matchId: string, category: Category) => `kk:r:${matchId}:${category}`,
  replyModal: (matchId: string, category: Category) => `kk:rm:${matchId}:${category}`,
  escalate: (matchId: string) => `kk:e:${matchId}`,
  escalateTo: (matchId: string, target: string) => `kk:et:${matchId}:${target}`,
  dismiss: (matchId: string) => `kk:d:${matchId}`,
  dismissModal: (matchId: string) => `kk:dm:${matchId}`,
  manualDone: (matchId: string) => `kk:md:${matchId}`,
  retry: (matchId: string) => `kk:rr:${matchId}`,
};

export function parseCustomId(
  customId: string,
): { action: string; matchId: string; arg: string | undefined } | null {
  const parts = customId.split(':');
  if (parts[0] !== 'kk' || parts.length < 3) return null;
  return { action: parts[1] as string, matchId: parts[2] as string, arg: parts[3] };
}

const PRIORITY_COLOR = { low: 0x95a5a6, normal: 0x3498db, high: 0xe67e22, urgent: 0xe74c3c } as const;
const PLATFORM_NAME = { x: 'X', mastodon: 'Mastodon' } as const;
const CATEGORIES: readonly Category[] = ['thanks', 'apology', 'guidance'];

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const unix = (date: Date | string) => Math.floor(new Date(date).getTime() / 1000);

/** Text from the outside world, shown in an embed: no markdown link/mention tricks. */
function quote(text: string): string {
  return text.replace(/[\\`*_~|>[\]()]/gu, (c) => `\\${c}`).replace(/@/gu, '@\u200b');
}

export interface ReviewView {
  readonly match: MatchRecord;
  readonly contacts: readonly ContactRecord[];
  readonly decisions: readonly ReviewDecision[];
  readonly reply: ReplyRecord | null;
  /** Names of escalation targets, for display. */
  readonly lang: Lang;
}

/** The review message for a match, in its current state (used for the first post and every update). */
export function buildReviewMessage(view: ReviewView): BotMessage {
  const { match, lang } = view;
  const { post, decision } = match;
  const fields: APIEmbed['fields'] = [
    { name: t('watch', lang), value: clip(decision.watches.join(', '), 1000), inline: true },
    { name: t('intent', lang), value: t(decision.intent, lang), inline: true },
  ];
  if (decision.category !== null) {
    fields.push({ name: t('suggested', lang), value: t(decision.category, lang), inline: true });
  }
  const words = [...new Set(decision.signals.map((s) => (s.negated ? `¬${s.word}` : s.word)))];
  if (words.length > 0)
    fields.push({ name: t('signals', lang), value: clip(quote(words.slice(0, 10).join(' · ')), 1000) });
  if (decision.escalations.length > 0) {
    fields.push({
      name: t('escalations', lang),
      value: clip(
        decision.escalations
          .map((e) => `🚨 ${quote(e.name)}${e.route ? ` → ${quote(e.route)}` : ''} (${e.priority})`)
          .join('\n'),
        1000,
      ),
    });
  }
  const earlier = view.contacts.filter((c) => c.matchId !== match.id);
  fields.push({
    name: t('contacts', lang),
    value:
      earlier.length === 0
        ? t('noContacts', lang)
        : clip(
            earlier
              .slice(0, 5)
              .map((c) => `${PLATFORM_NAME[c.platform]} @${quote(c.handle)} <t:${unix(c.at)}:R>`)
              .join('\n'),
            1000,
          ),
  });

  const state = stateOf(view);
  if (state.line !== null) fields.push({ name: t('status', lang), value: state.line });

  const followers =
    post.author.followers === null
      ? ''
      : ` · ${post.author.followers.toLocaleString('en-US')} ${t('followers', lang)}`;
  const embed: APIEmbed = {
    author: {
      name: clip(
        `${PLATFORM_NAME[post.platform]} · ${post.author.displayName || post.author.handle} (@${post.author.handle})${followers}`,
        256,
      ),
    },
    description: clip(quote(post.text), 4000),
    url: post.url,
    title: clip(`${PLATFORM_NAME[post.platform]} — @${post.author.handle}`, 256),
    color: PRIORITY_COLOR[match.priority],
    fields,
    timestamp: new Date(post.createdAt).toISOString(),
  };

  const linkRow = {
    type: ComponentType.ActionRow as const,
    components: [
      {
        type: ComponentType.Button as const,
        style: ButtonStyle.Link as const,
        label: t('openPost', lang),
        url: post.url,
      },
      ...state.links.map((l) => ({
        type: ComponentType.Button as const,
        style: ButtonStyle.Link as const,
        label: l.label,
        url: l.url,
      })),
      ...(state.retry
        ? [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Primary as const,
              label: t('retryReply', lang),
              custom_id: ids.retry(match.id),
            },
          ]
        : []),
      ...(state.manualDone
        ? [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Success as const,
              label: t('markReplied', lang),
              custom_id: ids.manualDone(match.id),
            },
          ]
        : []),
    ],
  };
  const components: BotMessage['components'] = [];
  if (state.actionable) {
    components.push({
      type: ComponentType.ActionRow,
      components: [
        ...CATEGORIES.map((category) => ({
          type: ComponentType.Button as const,
          style: (category === decision.category ? ButtonStyle.Primary : ButtonStyle.Secondary) as
            | ButtonStyle.Primary
            | ButtonStyle.Secondary,
          label: t(category, lang),
          custom_id: ids.reply(match.id, category),
        })),
        {
          type: ComponentType.Button as const,
          style: ButtonStyle.Danger as const,
          label: t('escalate', lang),
          custom_id: ids.escalate(match.id),
        },
        {
          type: ComponentType.Button as const,
          style: ButtonStyle.Secondary as const,
          label: t('dismiss', lang),
          custom_id: ids.dismiss(match.id),
        },
      ],
    });
  }
  components.push(linkRow);
  return { content: '', embeds: [embed], components };
}

function stateOf(view: ReviewView): {
  line: string | null;
  actionable: boolean;
  links: Array<{ label: string; url: string }>;
  manualDone: boolean;
  /** A failed reply can be sent again (the same text and idempotency key). */
  retry?: boolean;
} {
  const { reply, lang } = view;
  const latest = (kind: string) => [...view.decisions].reverse().find((d) => d.kind === kind);
  const who = (d: ReviewDecision | undefined) =>
    d ? `${t('by', lang)} ${quote(d.actor.name)} <t:${unix(d.at)}:f>` : '';
  if (reply !== null) {
    const decided = latest('reply') ?? latest('manual_reply');
    switch (reply.state) {
      case 'sent':
      case 'manual_done':
        return {
          line: `✅ ${t('replied', lang)} ${who(decided)}${reply.url ? `\n${reply.url}` : ''}`,
          actionable: false,
          links: reply.url ? [{ label: t('openReply', lang), url: reply.url }] : [],
          manualDone: false,
        };
      case 'pending':
        return {
          line: `⏳ ${t('sending', lang)} ${who(decided)}`,
          actionable: false,
          links: [],
          manualDone: false,
        };
      case 'manual_pending':
      case 'failed':
        return {
          line: `⚠️ ${reply.state === 'failed' ? t('replyFailed', lang) : t('manualNeeded', lang)}\n${clip(quote(reply.text), 900)}`,
          actionable: false,
          links: reply.manualUrl ? [{ label: t('postByHand', lang), url: reply.manualUrl }] : [],
          manualDone: true,
          retry: reply.state === 'failed',
        };
    }
  }
  const dismissed = latest('dismiss');
  if (dismissed) {
    const reason =
      typeof dismissed.detail.reason === 'string' && dismissed.detail.reason
        ? `: ${quote(dismissed.detail.reason)}`
        : '';
    return {
      line: `🗑️ ${t('dismissed', lang)} ${who(dismissed)}${reason}`,
      actionable: false,
      links: [],
      manualDone: false,
    };
  }
  const escalated = latest('escalate');
  if (escalated) {
    return {
      line: `🚨 ${t('escalated', lang)} → ${quote(String(escalated.detail.target ?? ''))} ${who(escalated)}`,
      actionable: true,
      links: [],
      manualDone: false,
    };
  }
  return { line: null, actionable: true, links: [], manualDone: false };
}
