import {
  type DeskActor,
  escalationTargets,
  failureMessage,
  problemMessage,
  type SurgeDesk,
  type SurgeOutcome,
} from '@kikimimi/desk';
import { type Platform, pickTemplate } from '@kikimimi/rules';
import {
  type APIModalInteractionResponseCallbackData,
  ButtonStyle,
  ComponentType,
  TextInputStyle,
} from 'discord.js';
import type { Store } from '../ports.ts';
import { type Lang, langOf, t } from './i18n.ts';
import type { InteractionIo } from './interactions.ts';
import type { ClassicMessage } from './port.ts';
import { currentSurgeMessage, parseSurgeCustomId, surgeIds } from './surge-message.ts';

const MODAL_TEXT_MAX = 4000;
/** Discord: at most 5 buttons in a row and 5 rows in a message. */
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;

/** A modal with one paragraph field `text`, prefilled. */
const textModal = (
  customId: string,
  title: string,
  label: string,
  value: string,
): APIModalInteractionResponseCallbackData => ({
  custom_id: customId,
  title: title.slice(0, 45),
  components: [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.TextInput,
          custom_id: 'text',
          label: label.slice(0, 45),
          style: TextInputStyle.Paragraph,
          value: value.slice(0, MODAL_TEXT_MAX),
          required: true,
          max_length: MODAL_TEXT_MAX,
        },
      ],
    },
  ],
});

/**
 * A reviewer's click on a surge's message (or one of its forms): a thin adapter over the surge desk.
 * Returns false for a custom_id that is not a surge's.
 */
export async function handleSurgeInteraction(
  io: InteractionIo,
  deps: { readonly surgeDesk: SurgeDesk; readonly store: Store },
): Promise<boolean> {
  const parsed = parseSurgeCustomId(io.customId);
  if (parsed === null) return false;
  const { store, surgeDesk } = deps;
  const settings = await store.discord.get();
  const lang: Lang = langOf(io.locale, settings.locale);
  const actor: DeskActor = { kind: 'discord', id: io.user.id, name: io.user.name, roleIds: io.roleIds };
  const { surgeId } = parsed;

  const refusal = (outcome: Exclude<SurgeOutcome, { ok: true }>) =>
    (outcome.code === 'invalid'
      ? [failureMessage(outcome, lang), ...outcome.problems.map((p) => `・${problemMessage(p, lang)}`)]
      : [failureMessage(outcome, lang)]
    ).join('\n');
  const answer = async (outcome: SurgeOutcome) => {
    if (outcome.ok)
      await io.update(await currentSurgeMessage(store, outcome.surge, langOf(settings.locale, 'ja')));
    else await io.replyEphemeral({ content: refusal(outcome) });
  };

  switch (parsed.action) {
    case 'r': {
      // The guidance template of the surge's watch on its main platform, placeholders left to fill per member.
      const [{ config }, surge] = await Promise.all([store.config.current(), store.surges.get(surgeId)]);
      const platform = Object.entries(surge?.platforms ?? {}).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'x';
      const template = pickTemplate(config.templates, {
        platform: platform as Platform,
        category: 'guidance',
        watchId: surge?.watchId ?? '',
        language: undefined,
      });
      await io.showModal(
        textModal(
          surgeIds.custom('rm', surgeId),
          t(lang, 'surgeReplyTitle'),
          t(lang, 'surgeReplyLabel'),
          template?.text ?? t(lang, 'surgeReplyDefault'),
        ),
      );
      return true;
    }
    case 'rm': {
      const outcome = await surgeDesk.replyToMembers(actor, surgeId, {
        all: true,
        text: io.fields?.text ?? '',
        category: 'guidance',
      });
      // Nobody new to answer (the rest were left out before): say so rather than show the same message.
      if (outcome.ok && (outcome.queued ?? []).length === 0)
        await io.replyEphemeral({
          content: t(lang, 'surgeNothingQueued', {
            skipped: (outcome.skipped ?? []).filter((s) => s.reason !== 'already_handled').length,
          }),
        });
      else await answer(outcome);
      return true;
    }
    case 'a': {
      const { config } = await store.config.current();
      const template = config.templates.find((tpl) => tpl.id === 'announcement');
      await io.showModal(
        textModal(
          surgeIds.custom('am', surgeId),
          t(lang, 'surgeAnnounceTitle'),
          t(lang, 'replyModalLabel'),
          template?.text ?? t(lang, 'surgeAnnounceDefault'),
        ),
      );
      return true;
    }
    case 'am':
      await answer(await surgeDesk.announce(actor, surgeId, { text: io.fields?.text ?? '' }));
      return true;
    case 'e': {
      const { config } = await store.config.current();
      const { targets } = escalationTargets({ decision: { escalations: [] } }, config, settings);
      const shown = targets
        .flatMap((target) => {
          const customId = surgeIds.escalateTo(surgeId, target);
          return customId === null ? [] : [{ target, customId }];
        })
        .slice(0, BUTTONS_PER_ROW * MAX_ROWS);
      if (shown.length === 0) {
        await io.replyEphemeral({ content: t(lang, 'noTargets') });
        return true;
      }
      const rows: ClassicMessage['components'] = [];
      for (let i = 0; i < shown.length; i += BUTTONS_PER_ROW) {
        rows.push({
          type: ComponentType.ActionRow,
          components: shown.slice(i, i + BUTTONS_PER_ROW).map(({ target, customId }) => ({
            type: ComponentType.Button as const,
            style: ButtonStyle.Danger as const,
            label: target.slice(0, 80),
            custom_id: customId,
          })),
        });
      }
      await io.replyEphemeral({ content: t(lang, 'chooseTarget'), components: rows });
      return true;
    }
    case 'et': {
      const target = parsed.target ?? '';
      const outcome = await surgeDesk.escalate(actor, surgeId, { target });
      // The worker posts into the target's channel and edits the surge's message (surgeEscalate job).
      if (outcome.ok)
        await io.update({ content: `${t(lang, 'done')} → ${target}`, embeds: [], components: [] });
      else await io.replyEphemeral({ content: refusal(outcome) });
      return true;
    }
    case 'd':
      await answer(await surgeDesk.dismissAll(actor, surgeId, {}));
      return true;
    case 'c':
      await answer(await surgeDesk.close(actor, surgeId));
      return true;
  }
}
