import type { CaseEvent, CustomerCase, MatchRecord, ReplyRecord, ReviewDecision } from '@kikimimi/db';
import type { Category, Platform } from '@kikimimi/rules';
import { fillText } from '@kikimimi/runtime';
import { type APIContainerComponent, type APIEmbed, ButtonStyle, ComponentType } from 'discord.js';
import { type Lang, t } from './i18n.ts';
import { type ClassicMessage, COMPONENTS_V2, type LayoutMessage } from './port.ts';
import { escapeDisplayName, quote, safeLinkUrl } from './safe-text.ts';

/** Discord refuses a component whose custom_id is longer than this. */
export const CUSTOM_ID_MAX = 100;

/**
 * custom_id actions: kk:r reply, kk:rm reply modal, kk:e escalate, kk:et escalate to, kk:d dismiss,
 * kk:dm dismiss modal, kk:md manual done, kk:rr send a failed reply again, kk:tk take the case, kk:fu
 * follow up (kk:fm its modal), kk:nt an internal note (kk:nm its modal); and what follows the match id in each (`kk:r:ID:thanks`).
 */
const ARGUMENT = {
  r: 'category',
  rm: 'category',
  e: null,
  et: 'target',
  d: null,
  dm: null,
  md: null,
  rr: null,
  /** Take the case (assign it to oneself). */
  tk: null,
  /** Answer what the customer said back: the follow-up form, and its submission. */
  fu: 'category',
  fm: 'category',
  /** An internal note: the form, and its submission. */
  nt: null,
  nm: null,
} as const;
export type CustomIdAction = keyof typeof ARGUMENT;
const CATEGORY_NAMES: ReadonlySet<string> = new Set<Category>(['thanks', 'apology', 'guidance', 'custom']);
const MATCH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

function customId(action: CustomIdAction, matchId: string, arg?: string): string {
  const id = arg === undefined ? `kk:${action}:${matchId}` : `kk:${action}:${matchId}:${arg}`;
  if (id.length > CUSTOM_ID_MAX) {
    throw new RangeError(
      `a Discord custom_id of ${id.length} characters (at most ${CUSTOM_ID_MAX}): ${id.slice(0, 60)}…`,
    );
  }
  return id;
}

export const ids = {
  reply: (matchId: string, category: Category) => customId('r', matchId, category),
  replyModal: (matchId: string, category: Category) => customId('rm', matchId, category),
  escalate: (matchId: string) => customId('e', matchId),
  /** Throws for a target too long to fit in a custom_id (callers offer only targets that fit). */
  escalateTo: (matchId: string, target: string) => customId('et', matchId, target),
  dismiss: (matchId: string) => customId('d', matchId),
  dismissModal: (matchId: string) => customId('dm', matchId),
  manualDone: (matchId: string) => customId('md', matchId),
  retry: (matchId: string) => customId('rr', matchId),
  take: (matchId: string) => customId('tk', matchId),
  followUp: (matchId: string, category: Category) => customId('fu', matchId, category),
  followUpModal: (matchId: string, category: Category) => customId('fm', matchId, category),
  note: (matchId: string) => customId('nt', matchId),
  noteModal: (matchId: string) => customId('nm', matchId),
};

/**
 * A custom_id back from Discord, or null for anything `ids` does not build: another bot's, an
 * unknown action, a match id that is not one, a missing, unknown or surplus argument, or too long.
 */
export function parseCustomId(
  customId: string,
): { action: CustomIdAction; matchId: string; arg: string | undefined } | null {
  if (customId.length > CUSTOM_ID_MAX) return null;
  const [prefix, action, matchId, ...rest] = customId.split(':');
  if (prefix !== 'kk' || action === undefined || !Object.hasOwn(ARGUMENT, action)) return null;
  if (matchId === undefined || !MATCH_ID.test(matchId)) return null;
  const expected = ARGUMENT[action as CustomIdAction];
  // A target may itself contain ':' (route names are free text).
  const arg = rest.length === 0 ? undefined : rest.join(':');
  if (expected === null) return arg === undefined ? { action: action as CustomIdAction, matchId, arg } : null;
  if (arg === undefined || arg === '' || (expected === 'category' && !CATEGORY_NAMES.has(arg))) return null;
  return { action: action as CustomIdAction, matchId, arg };
}

const PRIORITY_COLOR = { low: 0x95a5a6, normal: 0x3498db, high: 0xe67e22, urgent: 0xe74c3c } as const;
const PLATFORM_NAME = { x: 'X', mastodon: 'Mastodon', bluesky: 'Bluesky' } as const;
/** Discord's limits: a field's value, and all the text of one embed together. */
const FIELD_VALUE_MAX = 1024;
const EMBED_TOTAL_MAX = 6000;
const CATEGORIES: readonly Category[] = ['thanks', 'apology', 'guidance'];

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const unix = (date: Date | string) => Math.floor(new Date(date).getTime() / 1000);

/** The author cooldown as the review message states it. */
export interface CooldownView {
  /** This person's latest contact before this case (any of their identities), null: none in a year. */
  readonly last: { readonly at: Date; readonly platform: Platform; readonly handle: string } | null;
  /** suppression.authorCooldownHours (0: off). */
  readonly hours: number;
  /** When the message is built: whether the cooldown is still on. */
  readonly now: Date;
}

export interface ReviewView {
  readonly match: MatchRecord;
  /**
   * The customer's earlier matches, newest first, answered or not, with our replies in them: the
   * console's history of the case (customers.history, linked identities and the cooldown's handle key).
   * At most {@link HISTORY_SHOWN} are listed; one more says there are older ones.
   */
  readonly history: readonly CustomerCase[];
  readonly cooldown: CooldownView;
  readonly decisions: readonly ReviewDecision[];
  readonly reply: ReplyRecord | null;
  /** The case after the match: the customer's answers and reactions, notes… (absent: none). */
  readonly events?: readonly CaseEvent[];
  /** Every reply of the case (follow-ups after the first), absent: only `reply`. */
  readonly replies?: readonly ReplyRecord[];
  /** Names of escalation targets, for display. */
  readonly lang: Lang;
  /** The surge it joined after its own message went out (absent: none). */
  readonly surge?: { readonly count: number } | undefined;
}

/** The review message for a match, in its current state (used for the first post and every update). */
export function buildReviewMessage(view: ReviewView): ClassicMessage {
  const { match, lang } = view;
  const { post, decision } = match;
  const fields: APIEmbed['fields'] = [
    { name: t(lang, 'watch'), value: clip(decision.watches.join(', '), 1000), inline: true },
    { name: t(lang, 'intent'), value: t(lang, decision.intent), inline: true },
  ];
  if (decision.category !== null) {
    fields.push({ name: t(lang, 'suggested'), value: t(lang, decision.category), inline: true });
  }
  const words = [...new Set(decision.signals.map((s) => (s.negated ? `¬${s.word}` : s.word)))];
  if (words.length > 0)
    fields.push({ name: t(lang, 'signals'), value: clip(quote(words.slice(0, 10).join(' · ')), 1000) });
  if (decision.model !== undefined) {
    // The learned model decided the intent; say how sure it was and what the words alone would say.
    const { intent, probability, dictionary } = decision.model;
    fields.push({
      name: t(lang, 'model'),
      value: fillText(t(lang, dictionary === intent ? 'modelReading' : 'modelOverrules'), {
        intent: t(lang, intent),
        percent: String(Math.round(probability * 100)),
        dictionary: t(lang, dictionary),
      }),
      inline: true,
    });
  }
  if (decision.escalations.length > 0) {
    fields.push({
      name: t(lang, 'escalations'),
      value: clip(
        decision.escalations
          .map((e) => `🚨 ${quote(e.name)}${e.route ? ` → ${quote(e.route)}` : ''} (${e.priority})`)
          .join('\n'),
        1000,
      ),
    });
  }
  fields.push({ name: t(lang, 'history'), value: historyOf(view) });

  const state = stateOf(view);
  if (state.line !== null) fields.push({ name: t(lang, 'status'), value: clip(state.line, FIELD_VALUE_MAX) });
  const conversation = caseOf(view);
  fields.push({ name: t(lang, 'caseField'), value: clip(conversation.line, FIELD_VALUE_MAX) });
  if (view.surge !== undefined)
    fields.push({ name: '🌊', value: t(lang, 'surgeJoined', { count: view.surge.count }) });

  const followers =
    post.author.followers === null
      ? ''
      : ` · ${post.author.followers.toLocaleString('en-US')} ${t(lang, 'followers')}`;
  const author = clip(
    `${PLATFORM_NAME[post.platform]} · ${post.author.displayName || post.author.handle} (@${post.author.handle})${followers}`,
    256,
  );
  const title = clip(`${PLATFORM_NAME[post.platform]} — @${post.author.handle}`, 256);
  // The post gets what the other parts leave of the embed's total (the fields are capped, so at
  // least a few hundred characters remain).
  const used = author.length + title.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const postLink = safeLinkUrl(post.url, post.platform, post.author.handle);
  const embed: APIEmbed = {
    author: { name: author },
    description: clip(quote(post.text), Math.min(4000, EMBED_TOTAL_MAX - used)),
    ...(postLink === null ? {} : { url: postLink }),
    title,
    color: PRIORITY_COLOR[match.priority],
    fields,
    timestamp: new Date(post.createdAt).toISOString(),
  };

  const linkRow = {
    type: ComponentType.ActionRow as const,
    components: [
      ...(postLink === null
        ? []
        : [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Link as const,
              label: t(lang, 'openPost'),
              url: postLink,
            },
          ]),
      ...state.links.flatMap((l) => {
        const url = safeLinkUrl(l.url, post.platform);
        return url === null
          ? []
          : [{ type: ComponentType.Button as const, style: ButtonStyle.Link as const, label: l.label, url }];
      }),
      ...(state.retry
        ? [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Primary as const,
              label: t(lang, 'retryReply'),
              custom_id: ids.retry(match.id),
            },
          ]
        : []),
      ...(state.manualDone
        ? [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Success as const,
              label: t(lang, 'markReplied'),
              custom_id: ids.manualDone(match.id),
            },
          ]
        : []),
    ],
  };
  const components: ClassicMessage['components'] = [];
  if (state.actionable) {
    components.push({
      type: ComponentType.ActionRow,
      components: [
        ...CATEGORIES.map((category) => ({
          type: ComponentType.Button as const,
          style: (category === decision.category ? ButtonStyle.Primary : ButtonStyle.Secondary) as
            | ButtonStyle.Primary
            | ButtonStyle.Secondary,
          label: t(lang, category),
          custom_id: ids.reply(match.id, category),
        })),
        {
          type: ComponentType.Button as const,
          style: ButtonStyle.Danger as const,
          label: t(lang, 'escalate'),
          custom_id: ids.escalate(match.id),
        },
        {
          type: ComponentType.Button as const,
          style: ButtonStyle.Secondary as const,
          label: t(lang, 'dismiss'),
          custom_id: ids.dismiss(match.id),
        },
      ],
    });
  }
  if (linkRow.components.length > 0) components.push(linkRow);
  const caseRow = {
    type: ComponentType.ActionRow as const,
    components: [
      ...(conversation.followUp === null
        ? []
        : [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Primary as const,
              label: t(lang, 'followUp'),
              custom_id: ids.followUp(match.id, conversation.followUp),
            },
          ]),
      ...(match.caseState === 'resolved' || match.status === 'deleted' || match.suppressed
        ? []
        : [
            {
              type: ComponentType.Button as const,
              style: ButtonStyle.Secondary as const,
              label: t(lang, 'takeIt'),
              custom_id: ids.take(match.id),
            },
          ]),
      {
        type: ComponentType.Button as const,
        style: ButtonStyle.Secondary as const,
        label: t(lang, 'note'),
        custom_id: ids.note(match.id),
      },
    ],
  };
  if (caseRow.components.length > 0) components.push(caseRow);
  return { content: '', embeds: [embed], components };
}

/** Earlier matches listed on the review message (the console's match page lists more). */
export const HISTORY_SHOWN = 5;
/** Room for the history field's value, under Discord's 1,024 characters. */
const HISTORY_MAX = 1000;
const HOUR_MS = 3_600_000;

/** Text from the outside on one line, clipped, escaped, and with `<` broken (no `<@id>` or `<t:…>`). */
const snippet = (text: string, max: number) =>
  quote(clip(text.replace(/\s+/gu, ' ').trim(), max)).replace(/</gu, '<\u200b');

/**
 * The customer's history in one field: the author cooldown's state in words ("we replied 3 weeks ago;
 * the cooldown is over"), then their earlier matches — answered or not, on any platform of theirs —
 * newest first, one line each, as many as fit.
 */
function historyOf(view: ReviewView): string {
  const { lang, cooldown } = view;
  const lines: string[] = [];
  if (cooldown.last === null) lines.push(t(lang, 'cooldownNever'));
  else {
    const { at, platform, handle } = cooldown.last;
    const replied = t(lang, 'cooldownReplied', {
      ago: `<t:${unix(at)}:R>`,
      who: `${PLATFORM_NAME[platform]} @${escapeDisplayName(handle)}`,
    });
    const until = new Date(at.getTime() + cooldown.hours * HOUR_MS);
    const state =
      cooldown.hours <= 0
        ? t(lang, 'cooldownOff')
        : until > cooldown.now
          ? t(lang, 'cooldownActive', { until: `<t:${unix(until)}:f>`, hours: cooldown.hours })
          : t(lang, 'cooldownOver', { hours: cooldown.hours });
    // Japanese sentences follow one another without a space.
    lines.push(`${replied}${lang === 'ja' ? '' : ' '}${state}`);
  }
  if (view.history.length === 0) lines.push(t(lang, 'historyNone'));
  let used = lines.join('\n').length;
  const more = t(lang, 'historyMore');
  for (const [i, h] of view.history.entries()) {
    const line = i < HISTORY_SHOWN ? historyLine(h, lang) : null;
    // The last line must leave room for saying there is more.
    if (line === null || used + 1 + line.length + 1 + more.length > HISTORY_MAX) {
      lines.push(more);
      break;
    }
    lines.push(line);
    used += 1 + line.length;
  }
  return clip(lines.join('\n'), FIELD_VALUE_MAX);
}

const RELATION_KEY = { linked: 'historyLinked', same_name: 'historySameName' } as const;

/** One earlier match: when, whose account, what they wrote, and whether we answered. */
function historyLine(h: CustomerCase, lang: ReviewView['lang']): string {
  const { match } = h;
  const sent = h.replies.filter((r) => r.state === 'sent' || r.state === 'manual_done');
  const relation = h.relation === 'same_author' ? '' : ` (${t(lang, RELATION_KEY[h.relation])})`;
  const answered =
    sent.length === 0
      ? t(lang, 'historyNoReply')
      : `${t(lang, 'historyAnswered')}${sent.length > 1 ? ` ×${sent.length}` : ''}`;
  return `• <t:${unix(match.createdAt)}:R> ${PLATFORM_NAME[match.platform]} @${escapeDisplayName(match.post.author.handle)}${relation}: ${snippet(match.post.text, 60)} → ${answered}`;
}

/** The template category that fits an answer: thanks for thanks, an apology for the unhappy, guidance else. */
export const followUpCategory = (kind: string | undefined): Category =>
  kind === 'thanks' ? 'thanks' : kind === 'unhappy' ? 'apology' : 'guidance';

const STATE_KEY = { open: 'caseOpen', waiting: 'caseWaiting', resolved: 'caseResolved' } as const;
const ANSWER_KEY = {
  thanks: 'answerThanks',
  unhappy: 'answerUnhappy',
  question: 'answerQuestion',
  other: 'answerOther',
} as const;

/** The case in one field (state, who has it, what the customer said last) and whether to offer a follow-up. */
function caseOf(view: ReviewView): { line: string; followUp: Category | null } {
  const { match, lang } = view;
  const parts = [t(lang, STATE_KEY[match.caseState])];
  if (match.assignee !== null)
    parts.push(`🙋 ${escapeDisplayName(match.assignee.name || match.assignee.id)}`);
  const answers = (view.events ?? []).filter((e) => e.kind === 'answer');
  const last = answers.at(-1);
  const reactions = (view.events ?? []).filter((e) => e.kind === 'like' || e.kind === 'repost').length;
  if (last !== undefined) {
    parts.push(
      `💬 ${t(lang, ANSWER_KEY[last.reading?.kind ?? 'other'])}: ${clip(quote(last.text.replace(/\s+/gu, ' ')), 200)}`,
    );
  }
  if (reactions > 0) parts.push(`❤️ ${reactions}`);
  const replies = view.replies ?? (view.reply === null ? [] : [view.reply]);
  const answered = new Set(replies.map((r) => r.target?.postId).filter((id) => id !== undefined));
  const sent = replies[0]?.state === 'sent' || replies[0]?.state === 'manual_done';
  const followUp =
    sent && last?.postId != null && !answered.has(last.postId) && match.status !== 'deleted'
      ? followUpCategory(last.reading?.kind)
      : null;
  return { line: parts.join(' · '), followUp };
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
    d ? `${t(lang, 'by')} ${escapeDisplayName(d.actor.name)} <t:${unix(d.at)}:f>` : '';
  if (reply !== null) {
    const decided = latest('reply') ?? latest('manual_reply');
    switch (reply.state) {
      case 'sent':
      case 'manual_done':
        return {
          line: `✅ ${t(lang, 'replied')} ${who(decided)}${reply.url ? `\n${reply.url}` : ''}`,
          actionable: false,
          links: reply.url ? [{ label: t(lang, 'openReply'), url: reply.url }] : [],
          manualDone: false,
        };
      case 'pending':
        return {
          line: `⏳ ${t(lang, 'sending')} ${who(decided)}`,
          actionable: false,
          links: [],
          manualDone: false,
        };
      case 'manual_pending':
      case 'failed':
        return {
          line: `⚠️ ${reply.state === 'failed' ? t(lang, 'replyFailed') : t(lang, 'manualNeeded')}\n${clip(quote(reply.text), 900)}`,
          actionable: false,
          links: reply.manualUrl ? [{ label: t(lang, 'postByHand'), url: reply.manualUrl }] : [],
          manualDone: true,
          retry: reply.state === 'failed',
        };
    }
  }
  if (view.match.status === 'deleted') {
    return { line: `🚫 ${t(lang, 'postDeleted')}`, actionable: false, links: [], manualDone: false };
  }
  const dismissed = latest('dismiss');
  if (dismissed) {
    const reason =
      typeof dismissed.detail.reason === 'string' && dismissed.detail.reason
        ? `: ${quote(dismissed.detail.reason)}`
        : '';
    return {
      line: `🗑️ ${t(lang, 'dismissed')} ${who(dismissed)}${reason}`,
      actionable: false,
      links: [],
      manualDone: false,
    };
  }
  const escalated = latest('escalate');
  if (escalated) {
    return {
      line: `🚨 ${t(lang, 'escalated')} → ${quote(String(escalated.detail.target ?? ''))} ${who(escalated)}`,
      actionable: true,
      links: [],
      manualDone: false,
    };
  }
  return { line: null, actionable: true, links: [], manualDone: false };
}

/**
 * Reviews per message in a surge's thread when reviews wait for it: each takes at most 10 of the 40
 * components Discord allows in a message (a container; a section with its text and a button beside
 * it; a row of 5 buttons), and a quarter of its 4,000 characters of text.
 */
export const REVIEWS_PER_MESSAGE = 4;
/** Discord's limit on the text of all text displays in one message, and each review's share of it. */
const LAYOUT_TEXT_MAX = 4000;
const COMPACT_TEXT_MAX = Math.floor(LAYOUT_TEXT_MAX / REVIEWS_PER_MESSAGE) - 10;
/** The post's share of a compact review (the rest is the header, the status and the links). */
const COMPACT_POST_MAX = 500;
const COMPACT_STATUS_MAX = 240;

/** Text from the outside as a quote block: escaped, `<` broken, no heading or list markers. */
const quoteBlock = (text: string, max: number) =>
  quote(clip(text.trim(), max))
    .replace(/</gu, '<\u200b')
    .split('\n')
    .map((line) => `> ${line.replace(/^(\s*)([#-])/u, '$1\\$2')}`)
    .join('\n');

/**
 * One review in a message shared with others (a surge's thread, when reviews wait for it): a
 * container in the priority's colour with who wrote what, the match's status and links, and one row
 * of buttons — while it is open the decisions (the same buttons, and so the same forms, as the full
 * review) with "take it" beside the text, else what its state offers (send again, mark as replied,
 * follow up, take it, a note). The full review (history, signals, escalation rules) is the
 * console's match page.
 */
function compactReview(view: ReviewView): APIContainerComponent {
  const { match, lang } = view;
  const { post, decision } = match;
  const state = stateOf(view);
  const conversation = caseOf(view);
  const header = [
    `**${PLATFORM_NAME[post.platform]}** · ${escapeDisplayName(post.author.displayName || post.author.handle)} (@${escapeDisplayName(post.author.handle)})`,
    [
      t(lang, decision.intent),
      ...(decision.category === null ? [] : [`${t(lang, 'suggested')}: ${t(lang, decision.category)}`]),
      ...(decision.escalations.length > 0
        ? [`🚨 ${escapeDisplayName(decision.escalations[0]?.name ?? '')}`]
        : []),
      `<t:${unix(post.createdAt)}:R>`,
    ].join(' · '),
  ].join('\n');
  const postLink = safeLinkUrl(post.url, post.platform, post.author.handle);
  const links = [
    ...(postLink === null ? [] : [{ label: t(lang, 'openPost'), url: postLink }]),
    ...state.links.flatMap((l) => {
      const url = safeLinkUrl(l.url, post.platform);
      return url === null ? [] : [{ label: l.label, url }];
    }),
  ]
    .map((l) => `[${l.label}](${l.url})`)
    .join(' · ');
  const tail = [
    ...(state.line === null ? [] : [clip(state.line, COMPACT_STATUS_MAX)]),
    clip(conversation.line, COMPACT_STATUS_MAX),
    ...(view.surge === undefined ? [] : [t(lang, 'surgeJoined', { count: view.surge.count })]),
    ...(links === '' ? [] : [links]),
  ].join('\n');
  const room = COMPACT_TEXT_MAX - header.length - tail.length - 4;
  const text = `${header}\n${quoteBlock(post.text, Math.max(40, Math.min(COMPACT_POST_MAX, room)))}\n${tail}`;
  const button = (
    style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger,
    label: string,
    custom_id: string,
  ) => ({ type: ComponentType.Button as const, style, label, custom_id });
  const takeable = !(match.caseState === 'resolved' || match.status === 'deleted' || match.suppressed);
  const buttons = state.actionable
    ? [
        ...CATEGORIES.map((category) =>
          button(
            category === decision.category ? ButtonStyle.Primary : ButtonStyle.Secondary,
            t(lang, category),
            ids.reply(match.id, category),
          ),
        ),
        button(ButtonStyle.Danger, t(lang, 'escalate'), ids.escalate(match.id)),
        button(ButtonStyle.Secondary, t(lang, 'dismiss'), ids.dismiss(match.id)),
      ]
    : [
        ...(state.retry ? [button(ButtonStyle.Primary, t(lang, 'retryReply'), ids.retry(match.id))] : []),
        ...(state.manualDone
          ? [button(ButtonStyle.Success, t(lang, 'markReplied'), ids.manualDone(match.id))]
          : []),
        ...(conversation.followUp === null
          ? []
          : [
              button(ButtonStyle.Primary, t(lang, 'followUp'), ids.followUp(match.id, conversation.followUp)),
            ]),
        ...(takeable ? [button(ButtonStyle.Secondary, t(lang, 'takeIt'), ids.take(match.id))] : []),
        button(ButtonStyle.Secondary, t(lang, 'note'), ids.note(match.id)),
      ];
  const shown = { type: ComponentType.TextDisplay as const, content: clip(text, COMPACT_TEXT_MAX) };
  return {
    type: ComponentType.Container,
    accent_color: PRIORITY_COLOR[match.priority],
    components: [
      // While it is open, taking the case (else a note) sits beside the text: the row is the decisions'.
      state.actionable
        ? {
            type: ComponentType.Section,
            components: [shown],
            accessory: takeable
              ? button(ButtonStyle.Secondary, t(lang, 'takeIt'), ids.take(match.id))
              : button(ButtonStyle.Secondary, t(lang, 'note'), ids.note(match.id)),
          }
        : shown,
      { type: ComponentType.ActionRow, components: buttons.slice(0, 5) },
    ],
  };
}

/**
 * Several reviews in one message (components v2), each with its own buttons under it: how a surge's
 * thread carries the reviews waiting for it, {@link REVIEWS_PER_MESSAGE} at a time.
 */
export function buildReviewGroupMessage(views: readonly ReviewView[]): LayoutMessage {
  if (views.length === 0 || views.length > REVIEWS_PER_MESSAGE)
    throw new RangeError(`a review group of ${views.length} (1 to ${REVIEWS_PER_MESSAGE})`);
  return { content: '', embeds: [], components: views.map(compactReview), flags: COMPONENTS_V2 };
}
