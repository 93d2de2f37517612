import {
  type DeskActor,
  failureMessage,
  problemMessage,
  type SurgeDesk,
  type SurgeOutcome,
} from '@kikimimi/desk';
import { ComponentType, TextInputStyle } from 'discord.js';
import type { Store } from '../ports.ts';
import { type Lang, langOf, t } from './i18n.ts';
import type { InteractionIo } from './interactions.ts';
import { buildSurgeMessage, parseSurgeCustomId, surgeIds } from './surge-message.ts';

const MODAL_TEXT_MAX = 4000;

/**
 * A reviewer's click on a surge's message (or its announcement form): a thin adapter over the surge
 * desk. Returns false for a custom_id that is not a surge's.
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

  const answer = async (outcome: SurgeOutcome) => {
    if (outcome.ok) {
      const announcements = await store.surges.announcements(surgeId);
      await io.update(buildSurgeMessage(outcome.surge, announcements, langOf(settings.locale, 'ja')));
      return;
    }
    const lines =
      outcome.code === 'invalid'
        ? [failureMessage(outcome, lang), ...outcome.problems.map((p) => `・${problemMessage(p, lang)}`)]
        : [failureMessage(outcome, lang)];
    await io.replyEphemeral({ content: lines.join('\n') });
  };

  switch (parsed.action) {
    case 'a': {
      const { config } = await store.config.current();
      const template = config.templates.find((tpl) => tpl.id === 'announcement');
      await io.showModal({
        custom_id: surgeIds.custom('am', surgeId),
        title: t(lang, 'surgeAnnounceTitle').slice(0, 45),
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'text',
                label: t(lang, 'replyModalLabel'),
                style: TextInputStyle.Paragraph,
                value: (template?.text ?? t(lang, 'surgeAnnounceDefault')).slice(0, MODAL_TEXT_MAX),
                required: true,
                max_length: MODAL_TEXT_MAX,
              },
            ],
          },
        ],
      });
      return true;
    }
    case 'am':
      await answer(await surgeDesk.announce(actor, surgeId, { text: io.fields?.text ?? '' }));
      return true;
    case 'd':
      await answer(await surgeDesk.dismissAll(actor, surgeId, {}));
      return true;
    case 'c':
      await answer(await surgeDesk.close(actor, surgeId));
      return true;
  }
}
