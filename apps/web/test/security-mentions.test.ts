import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/*
 * Issue 14 item 10: an escalation rule may only mention roles an admin bound by name in the Discord
 * settings; a raw id (the guild id is @everyone) or an unbound name is refused by the form, the API
 * and the import.
 */

const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.repos.discord.set(
    { guildId: '100', channels: { billing: '200' }, roles: { 'billing-team': '400' }, locale: 'ja' },
    SYSTEM,
  );
});
afterAll(async () => {
  await t?.close();
});

const ruleForm = (id: string, mentionRoles: string) => ({
  originalId: '',
  id,
  name: '',
  enabled: 'on',
  query: '課金',
  minFollowers: '',
  maxFollowers: '',
  route: 'billing',
  mentionRoles,
  priority: 'high',
});

describe('escalation rules mention only bound roles', () => {
  it('the form refuses a raw role id and an unbound name, next to the field', async () => {
    for (const roles of ['100', 'billing-team, 999999999999', 'ghosts']) {
      const res = await t.request('/escalation?lang=en', { as: 'editor', form: ruleForm('r-bad', roles) });
      expect(res.status).toBe(422);
      expect(await res.text()).toMatch(/data-field="mentionRoles">[^<]*not a role name bound/u);
    }
    expect((await t.repos.config.current()).config.escalation).toEqual([]);
  });

  it('the form saves a rule that mentions a bound name', async () => {
    const res = await t.request('/escalation', { as: 'editor', form: ruleForm('r-good', 'billing-team') });
    expect(res.status).toBe(303);
    const rules = (await t.repos.config.current()).config.escalation;
    expect(rules.map((r) => r.actions.mentionRoles)).toEqual([['billing-team']]);
  });

  it('the API refuses an unbound role on POST and PUT', async () => {
    const rule = {
      id: 'api-rule',
      when: { query: '返金' },
      actions: { route: 'billing', mentionRoles: ['100'] },
    };
    const posted = await t.request('/api/escalation', { as: 'editor', json: rule });
    expect(posted.status).toBe(422);
    expect(await posted.json()).toMatchObject({
      problems: [expect.objectContaining({ path: 'actions.mentionRoles[0]' })],
    });
    const put = await t.request('/api/escalation/r-good', {
      method: 'PUT',
      as: 'editor',
      json: { ...rule, id: 'r-good' },
    });
    expect(put.status).toBe(422);
  });

  it('PUT /api/config and the import refuse a document mentioning an unbound role', async () => {
    const { config } = await t.repos.config.current();
    const document = {
      ...config,
      escalation: [
        ...config.escalation,
        { id: 'everyone', when: { query: '障害' }, actions: { route: 'billing', mentionRoles: ['100'] } },
      ],
    };
    const put = await t.request('/api/config', { method: 'PUT', as: 'admin', json: document });
    expect(put.status).toBe(422);
    expect(JSON.stringify(await put.json())).toContain('escalation[1].actions.mentionRoles[0]');
    const imported = await t.request('/import-export/import?lang=en', {
      as: 'admin',
      form: { json: JSON.stringify(document) },
    });
    expect(imported.status).toBe(422);
    expect(await imported.text()).toContain('not a role name bound');
    expect((await t.repos.config.current()).config.escalation.map((r) => r.id)).toEqual(['r-good']);
  });
});
