import { timeZoneSchema } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { addMessages, t } from '../../i18n.ts';
import { csrfField, type FieldErrors, page } from '../../layout.ts';
import {
  actorOf,
  type C,
  configStyle,
  depsOf,
  doneFlash,
  doneUrl,
  localizeProblems,
  problemSummary,
  publishChange,
  readForm,
  str,
  validate,
} from './shared.ts';
import { datalist, field, textInput } from './ui.ts';

addMessages({
  'config.organization.title': { ja: '組織のタイムゾーン', en: 'The organisation’s time zone' },
  'config.organization.intro': {
    ja: 'コンソールに表示するすべての時刻、ダッシュボードの日付の区切り、1 日の返信数の上限はこのタイムゾーンで数えます。初期設定で最初の管理者のブラウザのタイムゾーンになります。',
    en: 'Every time the console shows, the dashboard’s days and the daily reply cap count in this time zone. The setup takes it from the first admin’s browser.',
  },
  'config.organization.timeZone': { ja: 'タイムゾーン（IANA 名）', en: 'Time zone (IANA name)' },
  'config.organization.timeZoneHint': {
    ja: '例: Asia/Tokyo、UTC、America/New_York',
    en: 'E.g. Asia/Tokyo, UTC, America/New_York',
  },
  'config.organization.bad': {
    ja: 'タイムゾーンは「Asia/Tokyo」や「UTC」のような IANA 名で入力してください',
    en: 'Enter an IANA time zone such as "Asia/Tokyo" or "UTC"',
  },
});

const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone')];

async function renderPage(c: C, state: { value?: string; errors?: FieldErrors } = {}) {
  const { config } = await depsOf(c).repos.config.current();
  const value = state.value ?? config.organization.timeZone ?? 'UTC';
  const flash = doneFlash(c);
  const failed = state.errors !== undefined;
  return page(c, {
    title: t(c, 'config.organization.title'),
    active: 'dashboard',
    status: failed ? 422 : 200,
    ...(flash && !failed ? { flash } : {}),
    body: html`${configStyle(c)}
      <p class="hint">${t(c, 'config.organization.intro')}</p>
      <form method="post" action="/organization" class="card" novalidate>
        ${csrfField(c)}
        ${field({
          path: 'timeZone',
          label: t(c, 'config.organization.timeZone'),
          errors: state.errors,
          hint: t(c, 'config.organization.timeZoneHint'),
          control: html`${textInput({ path: 'timeZone', value, errors: state.errors, list: 'time-zones' })}${datalist('time-zones', ZONES)}`,
        })}
        <p><button type="submit">${t(c, 'config.save')}</button></p>
      </form>`,
  });
}

/** /organization: the organisation's time zone (admins). */
export function registerOrganizationRoutes(app: Hono<AppEnv>): void {
  app.get('/organization', requireRole('admin'), (c) => renderPage(c));

  app.post('/organization', requireRole('admin'), async (c) => {
    const value = str(await readForm(c), 'timeZone').trim();
    const checked = validate(timeZoneSchema, value, c.get('lang'));
    if (!checked.ok) return renderPage(c, { value, errors: { timeZone: t(c, 'config.organization.bad') } });
    const { config } = await depsOf(c).repos.config.current();
    const result = await depsOf(c).repos.config.setOrganization(
      { ...config.organization, timeZone: checked.data },
      actorOf(c),
    );
    if (!result.ok) {
      return page(c, {
        title: t(c, 'config.organization.title'),
        status: 422,
        body: html`${problemSummary(c, localizeProblems(c.get('lang'), result.problems))}`,
      });
    }
    await publishChange(c, 'organization');
    return c.redirect(doneUrl('/organization', 'saved', result.version), 303);
  });
}
