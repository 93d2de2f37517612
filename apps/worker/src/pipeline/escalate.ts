import type { MatchRecord } from '@kikimimi/db';
import { langOf, t } from '../discord/i18n.ts';
import { buildReviewMessage } from '../discord/review-message.ts';
import type { PipelineDeps } from './deps.ts';
import { reviewView } from './review.ts';

/**
 * Posts a match into the escalation channel bound to `target`, mentioning (only) the roles the
 * escalation rules for that target name. Returns false when the target has no channel.
 */
export async function postEscalation(
  match: MatchRecord,
  target: string,
  actorName: string,
  deps: PipelineDeps,
): Promise<boolean> {
  const settings = await deps.store.discord.get();
  const channelId = settings.channels[target];
  if (channelId === undefined || deps.discord === null) return false;
  const { config } = await deps.engines.current();
  const roleNames = new Set(
    config.escalation
      .filter((rule) => rule.actions.route === target)
      .flatMap((rule) => rule.actions.mentionRoles),
  );
  const roleIds = [...roleNames]
    .map((name) => settings.roles[name] ?? (/^\d+$/u.test(name) ? name : null))
    .filter((id): id is string => id !== null);
  const review = buildReviewMessage(await reviewView(match, deps));
  const mention = roleIds.map((id) => `<@&${id}>`).join(' ');
  const lang = langOf(settings.locale, 'ja');
  await deps.discord.send(
    channelId,
    {
      content: `${mention} ${t('escalatedFrom', lang)} — ${actorName}`.trim(),
      embeds: review.embeds,
      components: [],
      allowedRoleIds: roleIds,
    },
    // One escalation message per match and target, whatever the retries.
    { nonce: `e${target.slice(0, 4)}${match.id.replace(/-/gu, '')}`.slice(0, 25) },
  );
  return true;
}
