import {
  type Desk,
  type DeskActor,
  type DeskOutcome,
  escalationTargets,
  failureMessage,
  problemMessage,
  replyDraft,
  type SurgeDesk,
} from '@kikimimi/desk';
import type { Category } from '@kikimimi/rules';
import { fillText } from '@kikimimi/runtime';
import {
  type APIModalInteractionResponseCallbackData,
  ButtonStyle,
  ComponentType,
  TextInputStyle,
} from 'discord.js';
import type { EngineProvider } from '../engine-provider.ts';
import type { Store } from '../ports.ts';
import { type Lang, langOf, t } from './i18n.ts';
import type { DiscordNotifier } from './notifier.ts';
import type { BotMessage, ClassicMessage } from './port.ts';
import { ids, parseCustomId } from './review-message.ts';
import { handleSurgeInteraction } from './surge-interactions.ts';

/** One interaction as the handler sees it: what was clicked, by whom, and how to answer. */
export interface InteractionIo {
  readonly customId: string;
  readonly user: { readonly id: string; readonly name: string };
  readonly roleIds: readonly string[];
  readonly locale: string | null;
  /** Values of a submitted modal's text inputs. */
  readonly fields?: Readonly<Record<string, string>>;
  replyEphemeral(message: { content: string; components?: ClassicMessage['components'] }): Promise<void>;
  showModal(modal: APIModalInteractionResponseCallbackData): Promise<void>;
  /** Replaces the message the component is on. */
  update(message: BotMessage): Promise<void>;
}

/** What the interaction handler uses: the desk takes every decision; the rest only reads and renders. */
export interface InteractionDeps {
  readonly desk: Desk;
  /** Decisions on whole surges (their message's buttons); absent: surge buttons do nothing. */
  readonly surgeDesk?: SurgeDesk;
  readonly store: Store;
  readonly engines: EngineProvider;
  readonly notifier: DiscordNotifier;
}

const CATEGORIES = new Set<string>(['thanks', 'apology', 'guidance', 'custom']);
const MODAL_TEXT_MAX = 4000;
/** Discord: at most 5 buttons in a row and 5 rows in a message. */
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;

/** What a refused decision says to the reviewer (every problem of the input, one a line). */
function refusal(outcome: Exclude<DeskOutcome, { ok: true }>, lang: Lang): string {
  if (outcome.code !== 'invalid') return failureMessage(outcome, lang);
  return [failureMessage(outcome, lang), ...outcome.problems.map((p) => `・${problemMessage(p, lang)}`)].join(
    '\n',
  );
}

/**
 * Handles a reviewer's click or modal submission, a thin adapter over the desk (@kikimimi/desk) — the
 * same decisions the console takes. Only members holding a reviewer role can act; anyone else gets an
 * ephemeral refusal and the attempt is audited (by the desk).
 */
export async function handleInteraction(io: InteractionIo, deps: InteractionDeps): Promise<void> {
  if (deps.surgeDesk !== undefined) {
    if (await handleSurgeInteraction(io, { surgeDesk: deps.surgeDesk, store: deps.store })) return;
  }
  const parsed = parseCustomId(io.customId);
  if (parsed === null) return;
  const { store, desk } = deps;
  const settings = await store.discord.get();
  const lang: Lang = langOf(io.locale, settings.locale);
  const actor: DeskActor = { kind: 'discord', id: io.user.id, name: io.user.name, roleIds: io.roleIds };
  const matchId = parsed.matchId;

  /** The review message as it now is, or the refusal, in the reviewer's language. */
  const answer = async (outcome: DeskOutcome) => {
    if (outcome.ok) await io.update(await deps.notifier.message(outcome.match));
    else await io.replyEphemeral({ content: refusal(outcome, lang) });
  };
  /** Before a form opens: a reviewer, and a match still open for it. */
  const openFor = async (attempted: string, needsOpen: boolean) => {
    const refused = await desk.authorize(actor, matchId, attempted);
    if (refused !== null) {
      await io.replyEphemeral({ content: refusal(refused, lang) });
      return null;
    }
    const match = await store.matches.get(matchId);
    const handled =
      match !== null &&
      needsOpen &&
      (match.status === 'dismissed' || (await store.replies.forMatch(match.id)) !== null);
    if (match === null || handled) {
      await io.replyEphemeral({ content: failureMessage({ ok: false, code: 'already_handled' }, lang) });
      return null;
    }
    return match;
  };

  switch (parsed.action) {
    case 'r': {
      const category = parsed.arg ?? '';
      if (!CATEGORIES.has(category)) return;
      const match = await openFor('reply', true);
      if (match === null) return;
      const { config } = await deps.engines.current();
      const { text } = replyDraft(match, category as Category, config);
      await io.showModal({
        custom_id: ids.replyModal(match.id, category as Category),
        title: `${t(lang, category as Category)} — @${match.post.author.handle}`.slice(0, 45),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'text',
                label: t(lang, 'replyModalLabel'),
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
    case 'rm':
      await answer(await desk.reply(actor, matchId, { text: io.fields?.text ?? '', category: parsed.arg }));
      return;
    case 'e': {
      const match = await openFor('escalate', false);
      if (match === null) return;
      const { config } = await deps.engines.current();
      const { targets } = escalationTargets(match, config, settings);
      if (targets.length === 0) {
        await io.replyEphemeral({ content: t(lang, 'noTargets') });
        return;
      }
      // A target whose button id would be too long for Discord cannot be offered as a button.
      const fits = (target: string) => {
        try {
          ids.escalateTo(match.id, target);
          return true;
        } catch {
          return false;
        }
      };
      const shown = targets.filter(fits).slice(0, BUTTONS_PER_ROW * MAX_ROWS);
      if (shown.length === 0) {
        await io.replyEphemeral({ content: t(lang, 'noTargets') });
        return;
      }
      const rows: ClassicMessage['components'] = [];
      for (let i = 0; i < shown.length; i += BUTTONS_PER_ROW) {
        rows.push({
          type: ComponentType.ActionRow,
          components: shown.slice(i, i + BUTTONS_PER_ROW).map((target) => ({
            type: ComponentType.Button as const,
            style: ButtonStyle.Danger as const,
            label: target.slice(0, 80),
            custom_id: ids.escalateTo(match.id, target),
          })),
        });
      }
      await io.replyEphemeral({ content: t(lang, 'chooseTarget'), components: rows });
      return;
    }
    case 'et': {
      const target = parsed.arg ?? '';
      const outcome = await desk.escalate(actor, matchId, { target });
      // The worker posts into the target's channel and refreshes the review message (escalate job).
      if (outcome.ok)
        await io.update({ content: `${t(lang, 'done')} → ${target}`, embeds: [], components: [] });
      else await io.replyEphemeral({ content: refusal(outcome, lang) });
      return;
    }
    case 'd': {
      const match = await openFor('dismiss', true);
      if (match === null) return;
      await io.showModal({
        custom_id: ids.dismissModal(match.id),
        title: t(lang, 'dismissModalTitle'),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'reason',
                label: t(lang, 'dismissReason'),
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
    case 'dm':
      await answer(await desk.dismiss(actor, matchId, { reason: io.fields?.reason ?? '' }));
      return;
    case 'md':
      await answer(await desk.markRepliedByHand(actor, matchId, {}));
      return;
    case 'rr':
      await answer(await desk.retryReply(actor, matchId));
      return;
    case 'tk':
      await answer(
        await desk.assign(actor, matchId, {
          assignee: { kind: 'discord', id: io.user.id, name: io.user.name },
        }),
      );
      return;
    case 'fu': {
      const category = parsed.arg ?? '';
      if (!CATEGORIES.has(category)) return;
      const match = await openFor('follow_up', false);
      if (match === null) return;
      const { config } = await deps.engines.current();
      const answer = (await store.cases.events(match.id)).filter((e) => e.kind === 'answer').at(-1);
      // The template is rendered for the customer as they now write (their answer's post).
      const post = answer?.post ?? match.post;
      const { text } = replyDraft({ ...match, post }, category as Category, config);
      await io.showModal({
        custom_id: ids.followUpModal(match.id, category as Category),
        title: fillText(t(lang, 'followUpModalTitle'), { handle: `@${post.author.handle}` }).slice(0, 45),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'text',
                label: t(lang, 'replyModalLabel'),
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
    case 'nt': {
      const match = await openFor('note', false);
      if (match === null) return;
      await io.showModal({
        custom_id: ids.noteModal(match.id),
        title: t(lang, 'noteModalTitle').slice(0, 45),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'note',
                label: t(lang, 'noteLabel'),
                style: TextInputStyle.Paragraph,
                required: true,
                max_length: MODAL_TEXT_MAX,
              },
            ],
          },
        ],
      });
      return;
    }
    case 'nm':
      await answer(await desk.addNote(actor, matchId, { text: io.fields?.note ?? '' }));
      return;
    case 'fm':
      await answer(
        await desk.followUp(actor, matchId, { text: io.fields?.text ?? '', category: parsed.arg }),
      );
      return;
    default:
      return;
  }
}

/** A member's message in a case thread (the thread under a review message has the message's id). */
export interface ThreadMessage {
  readonly threadId: string;
  readonly user: { readonly id: string; readonly name: string };
  readonly roleIds: readonly string[];
  readonly content: string;
}

/**
 * What a reviewer writes in a case's thread is kept as an internal note of the case (never posted
 * publicly). Messages in other threads (a surge's; one under a message several reviews share, whose
 * cases it cannot tell apart), and from members who are not reviewers, are left alone (the desk
 * audits the refusal).
 */
export async function handleThreadMessage(
  message: ThreadMessage,
  deps: InteractionDeps,
): Promise<'noted' | 'ignored'> {
  if (message.content.trim() === '') return 'ignored';
  const review = await deps.store.reviews.byMessageId(message.threadId);
  if (review === null) return 'ignored';
  // The thread of a message shared by several reviews: whose case a note is for cannot be told.
  if (((await deps.store.reviews.groupOf(review.matchId))?.matchIds.length ?? 1) > 1) return 'ignored';
  const actor: DeskActor = {
    kind: 'discord',
    id: message.user.id,
    name: message.user.name,
    roleIds: message.roleIds,
  };
  const outcome = await deps.desk.addNote(actor, review.matchId, { text: message.content });
  return outcome.ok ? 'noted' : 'ignored';
}
