import { type Actor, ConflictError } from '@kikimimi/db';
import { type Category, measureReply, pickTemplate, renderTemplate } from '@kikimimi/rules';
import {
  type APIModalInteractionResponseCallbackData,
  ButtonStyle,
  ComponentType,
  TextInputStyle,
} from 'discord.js';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { postEscalation } from '../pipeline/escalate.ts';
import { refreshReviewMessage, reviewView } from '../pipeline/review.ts';
import { type Lang, langOf, t } from './i18n.ts';
import type { BotMessage } from './port.ts';
import { buildReviewMessage, ids, parseCustomId } from './review-message.ts';

/** One interaction as the handler sees it: what was clicked, by whom, and how to answer. */
export interface InteractionIo {
  readonly customId: string;
  readonly user: { readonly id: string; readonly name: string };
  readonly roleIds: readonly string[];
  readonly locale: string | null;
  /** Values of a submitted modal's text inputs. */
  readonly fields?: Readonly<Record<string, string>>;
  replyEphemeral(message: { content: string; components?: BotMessage['components'] }): Promise<void>;
  showModal(modal: APIModalInteractionResponseCallbackData): Promise<void>;
  /** Replaces the message the component is on. */
  update(message: BotMessage): Promise<void>;
}

const CATEGORIES = new Set<Category>(['thanks', 'apology', 'guidance', 'custom']);
const MODAL_TEXT_MAX = 4000;

/**
 * Handles a reviewer's click or modal submission. Only members holding a reviewer role can act;
 * anyone else gets an ephemeral refusal and the attempt is audited.
 */
export async function handleInteraction(io: InteractionIo, deps: PipelineDeps): Promise<void> {
  const parsed = parseCustomId(io.customId);
  if (parsed === null) return;
  const { store } = deps;
  const settings = await store.discord.get();
  const lang: Lang = langOf(io.locale, settings.locale);
  const actor: Actor = { kind: 'discord', id: io.user.id, name: io.user.name };

  if (!io.roleIds.some((role) => settings.reviewerRoleIds.includes(role))) {
    await store.audit.record(actor, 'match.refused', parsed.matchId, {
      customId: io.customId,
      roles: [...io.roleIds],
    });
    await io.replyEphemeral({ content: t('notReviewer', lang) });
    return;
  }
  const match = await store.matches.get(parsed.matchId);
  if (match === null) {
    await io.replyEphemeral({ content: t('alreadyHandled', lang) });
    return;
  }
  const finished = async () => {
    const reply = await store.replies.forMatch(match.id);
    return reply !== null || match.status === 'dismissed';
  };

  switch (parsed.action) {
    case 'r': {
      const category = parsed.arg as Category;
      if (!CATEGORIES.has(category) || (await finished())) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      const { config } = await deps.engines.current();
      const template = pickTemplate(config.templates, {
        platform: match.platform,
        category,
        watchId: match.decision.watches[0] ?? '',
      });
      const watch = config.watches.find((w) => w.id === match.decision.watches[0]);
      const text = template
        ? renderTemplate(template, {
            post: match.post,
            watch: { id: watch?.id ?? '', name: watch?.name },
            variables: config.variables,
          })
        : '';
      await io.showModal({
        custom_id: ids.replyModal(match.id, category),
        title: `${t(category, lang)} — @${match.post.author.handle}`.slice(0, 45),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'text',
                label: t('replyModalLabel', lang),
                style: TextInputStyle.Paragraph,
                value: text.slice(0, MODAL_TEXT_MAX),
                required: true,
                max_length: MODAL_TEXT_MAX,
              },
            ],
          },
        ],
      });
      return;
    }
    case 'rm': {
      const category = parsed.arg as Category;
      const text = (io.fields?.text ?? '').trim();
      if (text === '') {
        await io.replyEphemeral({ content: t('emptyReply', lang) });
        return;
      }
      if (match.accountId === null) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      const account = await store.accounts.get(match.accountId);
      const { config } = await deps.engines.current();
      const sent = match.platform === 'mastodon' ? `@${match.post.author.handle} ${text}` : text;
      const length = measureReply(sent, match.platform, {
        maxCharacters: config.platforms.mastodon.maxCharacters,
      });
      if (!length.ok) {
        await io.replyEphemeral({ content: `${t('tooLong', lang)}: ${length.length} / ${length.limit}` });
        return;
      }
      const now = deps.now();
      let created: boolean;
      try {
        ({ created } = await store.replies.begin(
          match.id,
          { accountId: account?.id ?? match.accountId, text, idempotencyKey: `kikimimi-${match.id}`, actor },
          now,
        ));
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        created = false; // dismissed meanwhile
      }
      if (!created) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      await store.reviews.recordDecision(match.id, 'reply', actor, { category, text }, now);
      await store.matches.setStatus(match.id, 'replied', now);
      await deps.enqueue.reply(match.id);
      await io.update(
        buildReviewMessage(await reviewView((await store.matches.get(match.id)) ?? match, deps)),
      );
      return;
    }
    case 'e': {
      const { config } = await deps.engines.current();
      const routes = new Set<string>([
        ...match.decision.escalations.flatMap((e) => (e.route ? [e.route] : [])),
        ...config.escalation.flatMap((rule) => (rule.actions.route ? [rule.actions.route] : [])),
      ]);
      const targets = [...routes].filter((route) => settings.channels[route] !== undefined).slice(0, 5);
      if (targets.length === 0) {
        await io.replyEphemeral({ content: t('noTargets', lang) });
        return;
      }
      await io.replyEphemeral({
        content: t('chooseTarget', lang),
        components: [
          {
            type: ComponentType.ActionRow,
            components: targets.map((target) => ({
              type: ComponentType.Button as const,
              style: ButtonStyle.Danger as const,
              label: target,
              custom_id: ids.escalateTo(match.id, target),
            })),
          },
        ],
      });
      return;
    }
    case 'et': {
      const target = parsed.arg ?? '';
      if (!(await postEscalation(match, target, io.user.name, deps))) {
        await io.replyEphemeral({ content: t('noTargets', lang) });
        return;
      }
      // Recorded once even when two reviewers pick the same target at once (the post above is
      // idempotent per match and target).
      await store.reviews.decide(match.id, 'escalate', actor, { target }, deps.now());
      await refreshReviewMessage(match.id, deps);
      await io.update({ content: `${t('done', lang)} → ${target}`, embeds: [], components: [] });
      return;
    }
    case 'd': {
      if (await finished()) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      await io.showModal({
        custom_id: ids.dismissModal(match.id),
        title: t('dismissModalTitle', lang),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'reason',
                label: t('dismissReason', lang),
                style: TextInputStyle.Short,
                required: false,
                max_length: 200,
              },
            ],
          },
        ],
      });
      return;
    }
    case 'dm': {
      if (await finished()) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      const decided = await store.reviews.decide(
        match.id,
        'dismiss',
        actor,
        { reason: (io.fields?.reason ?? '').trim() },
        deps.now(),
      );
      if (!decided.ok) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      await io.update(
        buildReviewMessage(await reviewView((await store.matches.get(match.id)) ?? match, deps)),
      );
      return;
    }
    case 'md': {
      const reply = await store.replies.forMatch(match.id);
      if (reply === null || (reply.state !== 'manual_pending' && reply.state !== 'failed')) {
        await io.replyEphemeral({ content: t('alreadyHandled', lang) });
        return;
      }
      const now = deps.now();
      await store.replies.markManualDone(reply.id, {}, actor, now);
      await store.reviews.recordDecision(match.id, 'manual_reply', actor, {}, now);
      await io.update(buildReviewMessage(await reviewView(match, deps)));
      return;
    }
    default:
      return;
  }
}
