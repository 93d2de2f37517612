import { addMessages, t } from '../../i18n.ts';
import type { C, Problem } from './shared.ts';

/*
 * Escalation rules may make the bot mention only roles an admin bound by name in the Discord settings
 * (settings.roles). A raw id is never accepted: the guild's own id is @everyone, and an editor could
 * otherwise ping any role. The worker maps bound names only, so this check tells people early.
 */

addMessages({
  'config.escalation.roleUnbound': {
    ja: '「{name}」は Discord 設定で管理者が登録したロール名ではありません（ロール ID は使えません）。先に「Discord」でロール名を登録してください。',
    en: '"{name}" is not a role name bound in the Discord settings (role ids are not accepted). An admin binds role names under “Discord” first.',
  },
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The problems of one rule's (unvalidated) `actions.mentionRoles`, at `${prefix}actions.mentionRoles[j]`. */
export function unboundRoleProblems(
  c: C,
  rule: unknown,
  bound: Readonly<Record<string, string>>,
  prefix = '',
): Problem[] {
  const actions = isRecord(rule) ? rule.actions : undefined;
  const names = isRecord(actions) && Array.isArray(actions.mentionRoles) ? actions.mentionRoles : [];
  return names.flatMap((name, j) =>
    typeof name === 'string' && !Object.hasOwn(bound, name)
      ? [
          {
            path: `${prefix}actions.mentionRoles[${j}]`,
            message: t(c, 'config.escalation.roleUnbound', { name: name.slice(0, 100) }),
          },
        ]
      : [],
  );
}

/** The same for every rule of a whole (unvalidated) configuration document. */
export async function unboundRolesInDocument(c: C, document: unknown): Promise<Problem[]> {
  const rules = isRecord(document) && Array.isArray(document.escalation) ? document.escalation : [];
  if (rules.length === 0) return [];
  const { roles } = await c.get('deps').repos.discord.get();
  return rules.flatMap((rule, i) => unboundRoleProblems(c, rule, roles, `escalation[${i}].`));
}
