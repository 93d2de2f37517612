import {
  type ConfigChangeResult,
  ConflictError,
  discordSettingsSchema,
  type PlatformAccount,
} from '@kikimimi/db';
import {
  type Config,
  escalationRuleSchema,
  loadConfig,
  type Platform,
  platformSchema,
  routingSchema,
  suppressionSchema,
  templateSchema,
  watchSchema,
} from '@kikimimi/rules';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { requireRecentSignIn, requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import {
  accountFieldsSchema,
  accountJson,
  accountStatus,
  checkCredentials,
  repositoryProblems,
} from './accounts.ts';
import { addressProblems, testConnection } from './connectors.ts';
import { references } from './discord.ts';
import { unboundRoleProblems, unboundRolesInDocument } from './mention-roles.ts';
import {
  actorOf,
  type C,
  checkQuery,
  depsOf,
  localizeConfigProblems,
  localizeProblems,
  type Problem,
  publishChange,
  relativeTo,
  validate,
  zodLang,
} from './shared.ts';
import { previewTemplate } from './template-preview.ts';

/** An API error: what kind, and every problem with its path (and offset inside text). */
function fail(c: C, status: ContentfulStatusCode, error: string, problems: readonly Problem[]) {
  return c.json(
    {
      error,
      problems: problems.map((p) => ({
        path: p.path,
        message: p.message,
        ...(p.offset === undefined ? {} : { offset: p.offset }),
      })),
    },
    status,
  );
}

const invalid = (c: C, problems: readonly Problem[]) => fail(c, 422, 'invalid', problems);
const notFound = (c: C, message: string) => fail(c, 404, 'not_found', [{ path: '(root)', message }]);

class BadBody extends Error {}

/** The request body: JSON, or a form (what the console's inline scripts send). */
async function readBody(c: C): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data')) {
    const form = await c.req.parseBody({ all: true });
    return Object.fromEntries(
      Object.entries(form).filter(
        ([key, value]) => key !== '_csrf' && (typeof value === 'string' || Array.isArray(value)),
      ),
    );
  }
  try {
    return await c.req.json();
  } catch {
    throw new BadBody('the body must be JSON (Content-Type: application/json)');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems from a whole-configuration check, relative to the item when they concern it. */
function itemProblems(c: C, prefix: string, problems: readonly Problem[]): Problem[] {
  const relative = relativeTo(prefix);
  return localizeProblems(c.get('lang'), problems).map((p) => {
    const path = relative(p.path);
    return path === undefined ? p : { ...p, path };
  });
}

const isConflict = (result: ConfigChangeResult) =>
  !result.ok &&
  result.problems.some(
    (p) => p.path === '(root)' && p.message.startsWith('the configuration changed meanwhile'),
  );

type ListKind = 'watches' | 'templates' | 'escalation';

interface ItemKind {
  readonly kind: ListKind;
  readonly schema: z.ZodType;
  /** Query fields checked for syntax with their offset (`query`, `when.query`). */
  readonly query: (item: Record<string, unknown>) => Array<{ path: string; text: string }>;
  readonly upsert: (c: C, input: unknown) => Promise<ConfigChangeResult>;
  readonly remove: (c: C, id: string) => Promise<ConfigChangeResult>;
}

const ITEMS: readonly ItemKind[] = [
  {
    kind: 'watches',
    schema: watchSchema,
    query: (item) => (typeof item.query === 'string' ? [{ path: 'query', text: item.query }] : []),
    upsert: (c, input) => depsOf(c).repos.config.upsertWatch(input, actorOf(c)),
    remove: (c, id) => depsOf(c).repos.config.removeWatch(id, actorOf(c)),
  },
  {
    kind: 'templates',
    schema: templateSchema,
    query: () => [],
    upsert: (c, input) => depsOf(c).repos.config.upsertTemplate(input, actorOf(c)),
    remove: (c, id) => depsOf(c).repos.config.removeTemplate(id, actorOf(c)),
  },
  {
    kind: 'escalation',
    schema: escalationRuleSchema,
    query: (item) => {
      const when = item.when;
      return isRecord(when) && typeof when.query === 'string'
        ? [{ path: 'when.query', text: when.query }]
        : [];
    },
    upsert: (c, input) => depsOf(c).repos.config.upsertEscalationRule(input, actorOf(c)),
    remove: (c, id) => depsOf(c).repos.config.removeEscalationRule(id, actorOf(c)),
  },
];

/** Schema and query syntax, as the forms check them: messages in the caller's language, offsets for queries. */
function checkItem(
  c: C,
  kind: ItemKind,
  input: unknown,
): { ok: true; data: Record<string, unknown> } | { ok: false; problems: Problem[] } {
  const lang = c.get('lang');
  const checked = validate(kind.schema, input, lang);
  const problems = checked.ok ? [] : [...checked.problems];
  if (isRecord(input)) {
    for (const { path, text } of kind.query(input)) {
      if (problems.some((p) => p.path === path)) continue;
      const query = checkQuery(lang, text);
      if (!query.ok) problems.push({ path, message: query.error.message, offset: query.error.offset });
    }
  }
  return problems.length > 0 || !checked.ok
    ? { ok: false, problems }
    : { ok: true, data: checked.data as Record<string, unknown> };
}

function registerItems(api: Hono<AppEnv>, item: ItemKind): void {
  const base = `/${item.kind}`;
  const find = (config: Config, id: string) =>
    (config[item.kind] as ReadonlyArray<{ id: string }>).findIndex((x) => x.id === id);

  const save = async (c: C, input: Record<string, unknown>, creating: boolean) => {
    const { config } = await depsOf(c).repos.config.current();
    const checked = checkItem(c, item, input);
    if (!checked.ok) return invalid(c, checked.problems);
    if (item.kind === 'escalation') {
      const unbound = unboundRoleProblems(c, input, (await depsOf(c).repos.discord.get()).roles);
      if (unbound.length > 0) return invalid(c, unbound);
    }
    const id = String(checked.data.id);
    const index = find(config, id);
    if (creating && index >= 0)
      return fail(c, 409, 'conflict', [
        { path: 'id', message: `an item with the id "${id}" already exists; PUT ${base}/${id} replaces it` },
      ]);
    const result = await item.upsert(c, input);
    if (!result.ok)
      return invalid(
        c,
        itemProblems(c, `${item.kind}[${index >= 0 ? index : config[item.kind].length}]`, result.problems),
      );
    await publishChange(c, item.kind);
    return c.json({ version: result.version, item: checked.data }, creating ? 201 : 200);
  };

  api.get(base, requireUser, async (c) => {
    const { version, config } = await depsOf(c).repos.config.current();
    return c.json({ version, [item.kind]: config[item.kind] });
  });

  api.post(base, requireRole('editor'), async (c) => {
    const body = await readBody(c);
    if (!isRecord(body))
      return fail(c, 400, 'bad_request', [{ path: '(root)', message: 'the body must be a JSON object' }]);
    return save(c, body, true);
  });

  api.get(`${base}/:id`, requireUser, async (c) => {
    const { version, config } = await depsOf(c).repos.config.current();
    const found = (config[item.kind] as ReadonlyArray<{ id: string }>).find(
      (x) => x.id === c.req.param('id'),
    );
    if (found === undefined) return notFound(c, `no item has the id "${c.req.param('id')}"`);
    return c.json({ version, item: found });
  });

  api.put(`${base}/:id`, requireRole('editor'), async (c) => {
    const body = await readBody(c);
    if (!isRecord(body))
      return fail(c, 400, 'bad_request', [{ path: '(root)', message: 'the body must be a JSON object' }]);
    const id = c.req.param('id');
    if (body.id !== undefined && body.id !== id) {
      return invalid(c, [
        {
          path: 'id',
          message: `the id in the body ("${String(body.id)}") differs from the one in the URL ("${id}"); ids cannot be renamed`,
        },
      ]);
    }
    return save(c, { ...body, id }, false);
  });

  api.delete(`${base}/:id`, requireRole('editor'), async (c) => {
    const id = c.req.param('id');
    const { config } = await depsOf(c).repos.config.current();
    if (find(config, id) < 0) return notFound(c, `no item has the id "${id}"`);
    const result = await item.remove(c, id);
    if (!result.ok) return invalid(c, localizeProblems(c.get('lang'), result.problems));
    await publishChange(c, item.kind);
    return c.json({ version: result.version });
  });
}

function registerSection(
  api: Hono<AppEnv>,
  name: 'suppression' | 'routing',
  schema: z.ZodType,
  set: (c: C, input: unknown) => Promise<ConfigChangeResult>,
): void {
  api.get(`/${name}`, requireUser, async (c) => {
    const { version, config } = await depsOf(c).repos.config.current();
    return c.json({ version, [name]: config[name] });
  });
  api.put(`/${name}`, requireRole('editor'), async (c) => {
    const body = await readBody(c);
    const checked = validate(schema, body, c.get('lang'));
    if (!checked.ok) return invalid(c, checked.problems);
    const result = await set(c, body);
    if (!result.ok) return invalid(c, itemProblems(c, name, result.problems));
    await publishChange(c, name);
    return c.json({ version: result.version, [name]: checked.data });
  });
}

const accountCreateSchema = accountFieldsSchema.extend({
  platform: platformSchema,
  credentials: z.unknown(),
});
const accountPatchSchema = accountFieldsSchema.partial().extend({ credentials: z.unknown().optional() });

const ACCOUNT_KEYS = [
  'label',
  'baseUrl',
  'streamingUrl',
  'enabled',
  'pollIntervalSeconds',
  'streamEnabled',
] as const;
const pick = (data: Record<string, unknown>) =>
  Object.fromEntries(ACCOUNT_KEYS.filter((k) => data[k] !== undefined).map((k) => [k, data[k]]));

function registerAccounts(api: Hono<AppEnv>): void {
  const status = async (c: C, account: PlatformAccount) =>
    accountJson(await accountStatus(depsOf(c), account, depsOf(c).now()));

  api.get('/accounts', requireUser, async (c) => {
    const accounts = await depsOf(c).repos.accounts.list();
    return c.json({ accounts: await Promise.all(accounts.map((a) => status(c, a))) });
  });

  api.post('/accounts', requireRole('admin'), requireRecentSignIn('/platforms'), async (c) => {
    const lang = c.get('lang');
    const body = await readBody(c);
    const checked = validate(accountCreateSchema, body, lang);
    if (!checked.ok) return invalid(c, checked.problems);
    const data = checked.data as Record<string, unknown> & { platform: Platform; credentials: unknown };
    const problems = checkCredentials(lang, data.platform, data.credentials).map((p) => ({
      ...p,
      path: `credentials.${p.path}`.replace(/\.\(root\)$/u, ''),
    }));
    if (data.platform === 'mastodon' && !data.baseUrl)
      problems.push({ path: 'baseUrl', message: 'the instance URL is required for Mastodon' });
    problems.push(
      ...(await addressProblems(lang, data, {
        allowPrivateNetworks: depsOf(c).allowPrivateNetworks ?? false,
      })),
    );
    if (problems.length > 0) return invalid(c, problems);
    try {
      const account = await depsOf(c).repos.accounts.create(
        { platform: data.platform, ...pick(data), credentials: data.credentials } as never,
        actorOf(c),
      );
      await publishChange(c, 'account');
      return c.json({ account: await status(c, account) }, 201);
    } catch (error) {
      const refused = repositoryProblems(lang, error);
      if (refused === null) throw error;
      return error instanceof ConflictError ? fail(c, 409, 'conflict', refused) : invalid(c, refused);
    }
  });

  api.get('/accounts/:id', requireUser, async (c) => {
    const account = await depsOf(c).repos.accounts.get(c.req.param('id'));
    if (account === null) return notFound(c, 'no such account');
    return c.json({ account: await status(c, account) });
  });

  api.patch('/accounts/:id', requireRole('admin'), requireRecentSignIn('/platforms'), async (c) => {
    const lang = c.get('lang');
    const deps = depsOf(c);
    const account = await deps.repos.accounts.get(c.req.param('id'));
    if (account === null) return notFound(c, 'no such account');
    const body = await readBody(c);
    const checked = validate(accountPatchSchema, body, lang);
    if (!checked.ok) return invalid(c, checked.problems);
    const data = checked.data as Record<string, unknown>;
    const problems =
      data.credentials === undefined
        ? []
        : checkCredentials(lang, account.platform, data.credentials).map((p) => ({
            ...p,
            path: `credentials.${p.path}`.replace(/\.\(root\)$/u, ''),
          }));
    problems.push(
      ...(await addressProblems(lang, data, { allowPrivateNetworks: deps.allowPrivateNetworks ?? false })),
    );
    if (problems.length > 0) return invalid(c, problems);
    try {
      const updated = await deps.repos.accounts.update(
        account.id,
        {
          ...pick(data),
          ...(data.credentials === undefined ? {} : { credentials: data.credentials }),
        } as never,
        actorOf(c),
      );
      await publishChange(c, 'account');
      return c.json({ account: await status(c, updated) });
    } catch (error) {
      const refused = repositoryProblems(lang, error);
      if (refused === null) throw error;
      return error instanceof ConflictError ? fail(c, 409, 'conflict', refused) : invalid(c, refused);
    }
  });

  api.delete('/accounts/:id', requireRole('admin'), requireRecentSignIn('/platforms'), async (c) => {
    const removed = await depsOf(c).repos.accounts.remove(c.req.param('id'), actorOf(c));
    if (!removed) return notFound(c, 'no such account');
    await publishChange(c, 'account');
    return c.json({ deleted: true });
  });

  api.post('/accounts/:id/test', requireRole('admin'), requireRecentSignIn('/platforms'), async (c) => {
    const deps = depsOf(c);
    const account = await deps.repos.accounts.get(c.req.param('id'));
    if (account === null) return notFound(c, 'no such account');
    let credentials: unknown;
    try {
      credentials = await deps.repos.accounts.credentials(account.id);
    } catch (error) {
      deps.log.error({ err: error, account: account.id }, 'stored credentials unreadable');
      return c.json({
        ok: false,
        error: { kind: 'invalid', message: 'the stored credentials cannot be read (see the server log)' },
      });
    }
    const result = await testConnection(
      c.get('lang'),
      { ...account, credentials },
      { allowPrivateNetworks: deps.allowPrivateNetworks ?? false },
    );
    if (!result.ok) return c.json({ ok: false, error: { kind: result.kind, message: result.message } });
    await deps.repos.accounts.recordIdentity(account.id, {
      handle: result.identity.handle,
      accountId: result.identity.id,
    });
    return c.json({ ok: true, identity: result.identity });
  });
}

/** Line and column (1-based) of a UTF-16 offset. */
function lineColumn(text: string, offset: number) {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

const queryCheckSchema = z.object({ query: z.string().max(10_000) });
const templatePreviewSchema = z.object({
  text: z.string().max(20_000),
  platform: z.union([platformSchema, z.literal('*')]).default('*'),
  watches: z.union([z.string(), z.array(z.string())]).optional(),
});

/** The JSON API of the configuration, mounted at /api. */
export function configApiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.onError((error, c) => {
    if (error instanceof BadBody)
      return fail(c, 400, 'bad_request', [{ path: '(root)', message: error.message }]);
    throw error;
  });

  api.get('/config', requireUser, async (c) => {
    const { version, config } = await depsOf(c).repos.config.current();
    return c.json({ version, config });
  });

  api.get('/config/history', requireUser, async (c) => {
    const versions = await depsOf(c).repos.config.history(50);
    return c.json({
      versions: versions.map((v) => ({ version: v.version, actor: v.actor, createdAt: v.createdAt })),
    });
  });

  api.put('/config', requireRole('admin'), async (c) => {
    const body = await readBody(c);
    const expected = c.req.query('expectedVersion') ?? c.req.header('if-match')?.replace(/"/gu, '');
    const expectedVersion = expected === undefined || expected === '' ? undefined : Number(expected);
    if (expectedVersion !== undefined && !Number.isInteger(expectedVersion)) {
      return fail(c, 400, 'bad_request', [{ path: '(root)', message: 'expectedVersion must be an integer' }]);
    }
    // Every problem at once, in the reader's language (the repository checks again when saving).
    const lang = c.get('lang');
    const loaded = loadConfig(body, zodLang(lang));
    const problems = [
      ...(loaded.ok ? [] : localizeConfigProblems(lang, loaded.problems, body)),
      ...(await unboundRolesInDocument(c, body)),
    ];
    if (problems.length > 0) return invalid(c, problems);
    const result = await depsOf(c).repos.config.replace(
      body,
      actorOf(c),
      expectedVersion === undefined ? {} : { expectedVersion },
    );
    if (!result.ok) {
      const problems = localizeProblems(c.get('lang'), result.problems);
      return isConflict(result) ? fail(c, 409, 'conflict', problems) : invalid(c, problems);
    }
    await publishChange(c, 'config');
    return c.json({ version: result.version });
  });

  // Before the item routes, so that /templates/preview is not read as the template "preview".
  api.post('/query/check', requireUser, async (c) => {
    const lang = c.get('lang');
    const checked = validate(queryCheckSchema, await readBody(c), lang);
    if (!checked.ok) return fail(c, 400, 'bad_request', checked.problems);
    const { query } = checked.data;
    const result = checkQuery(lang, query);
    if (result.ok) return c.json({ ok: true });
    const { code, message, offset, length, detail } = result.error;
    return c.json({
      ok: false,
      error: { message, offset, length, code, ...lineColumn(query, offset), ...(detail ? { detail } : {}) },
    });
  });

  api.post('/templates/preview', requireUser, async (c) => {
    const lang = c.get('lang');
    const checked = validate(templatePreviewSchema, await readBody(c), lang);
    if (!checked.ok) return fail(c, 400, 'bad_request', checked.problems);
    const { text, platform, watches } = checked.data;
    const { config } = await depsOf(c).repos.config.current();
    const preview = previewTemplate(config, {
      text,
      platform,
      watches: watches === undefined ? [] : [watches].flat(),
    });
    return c.json({
      problems: preview.problems.map((p) => ({
        code: p.code,
        message: lang === 'en' ? p.message : `${localizeTemplate(lang, p.code)} — ${p.message}`,
        offset: p.offset,
        length: p.length,
        ...lineColumn(text, p.offset),
      })),
      previews: preview.previews.map(({ counted: _counted, ...p }) => p),
    });
  });

  for (const item of ITEMS) registerItems(api, item);
  registerSection(api, 'suppression', suppressionSchema, (c, input) =>
    depsOf(c).repos.config.setSuppression(input, actorOf(c)),
  );
  registerSection(api, 'routing', routingSchema, (c, input) =>
    depsOf(c).repos.config.setRouting(input, actorOf(c)),
  );

  api.get('/discord', requireUser, async (c) => {
    const deps = depsOf(c);
    const [settings, { config }] = await Promise.all([deps.repos.discord.get(), deps.repos.config.current()]);
    const refs = references(c.get('lang'), config);
    return c.json({
      settings,
      references: {
        channels: Object.fromEntries(refs.channels),
        roles: Object.fromEntries(refs.roles),
        unboundChannels: [...refs.channels.keys()].filter((name) => !settings.channels[name]),
        unboundRoles: [...refs.roles.keys()].filter((name) => !settings.roles[name]),
      },
    });
  });

  api.put('/discord', requireRole('admin'), async (c) => {
    const body = await readBody(c);
    const checked = validate(discordSettingsSchema, body, c.get('lang'));
    if (!checked.ok) return invalid(c, checked.problems);
    const result = await depsOf(c).repos.discord.set(body, actorOf(c));
    if (!result.ok) return invalid(c, localizeProblems(c.get('lang'), result.problems));
    await publishChange(c, 'discord');
    return c.json({ settings: result.settings });
  });

  registerAccounts(api);
  return api;
}

function localizeTemplate(lang: 'ja' | 'en', code: string): string {
  return t(lang, `config.template.${code}`);
}
