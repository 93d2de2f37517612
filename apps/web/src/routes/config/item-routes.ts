import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { csrfField, page } from '../../layout.ts';
import {
  actorOf,
  type C,
  configStyle,
  doneUrl,
  localizeProblems,
  type Problem,
  problemSummary,
  publishChange,
  relativeTo,
} from './shared.ts';

/*
 * The routes every list of configuration items (watches, templates, escalation rules) shares: turning
 * one on or off, and deleting one after a confirmation. Each change is one new configuration version
 * (or every problem and nothing saved), announced to the workers.
 */

type Saved = { ok: true; version: number } | { ok: false; problems: readonly Problem[] };

/**
 * Saves an item from its edit form: the id must be new (creating) or unchanged (editing), then the
 * repository validates the whole configuration. Saved: the redirect to the item. Otherwise every
 * problem — the form's own (`problems`), the id's, the repository's located in the form — and nothing
 * saved.
 */
export async function saveItem<Input>(
  c: C,
  options: {
    /** The list's path, e.g. '/watches'; the configuration's section is the same word. */
    readonly path: string;
    readonly form: { readonly id: string; readonly originalId: string };
    /** The item's index in the current configuration (-1: not there) and how many there are. */
    readonly index: number;
    readonly count: number;
    readonly problems: readonly Problem[];
    readonly input: Input;
    readonly upsert: (input: Input, actor: ReturnType<typeof actorOf>) => Promise<Saved>;
  },
): Promise<{ readonly saved: Response } | { readonly problems: Problem[] }> {
  const { form, index } = options;
  const problems = [...options.problems];
  if (form.originalId === '' && index >= 0)
    problems.push({ path: 'id', message: t(c, 'config.idTaken', { id: form.id }) });
  if (form.originalId !== '' && form.id !== form.originalId)
    problems.push({ path: 'id', message: t(c, 'config.idFixed') });
  if (problems.length > 0) return { problems };
  const result = await options.upsert(options.input, actorOf(c));
  if (result.ok) {
    await publishChange(c, options.path.slice(1));
    const done = form.originalId === '' ? 'created' : 'saved';
    return {
      saved: c.redirect(doneUrl(`${options.path}/${encodeURIComponent(form.id)}`, done, result.version), 303),
    };
  }
  const relative = relativeTo(`${options.path.slice(1)}[${index >= 0 ? index : options.count}]`);
  for (const p of localizeProblems(c.get('lang'), result.problems)) {
    const path = relative(p.path);
    problems.push(path === undefined ? p : { ...p, path });
  }
  return { problems };
}

/** POST `<path>/:id/toggle`: flips the item's `enabled`, back to the list at the item. */
export function registerToggle<Item extends { readonly id: string; readonly enabled: boolean }>(
  app: Hono<AppEnv>,
  options: {
    readonly path: string;
    readonly active: string;
    /** The list's anchor prefix: the item is at `#<anchor>-<id>`. */
    readonly anchor: string;
    /** Message key of the link back to the list. */
    readonly back: string;
    readonly find: (c: C, id: string) => Promise<Item | undefined>;
    readonly save: (c: C, item: Item) => Promise<Saved>;
    readonly notFound: (c: C) => Response | Promise<Response>;
  },
): void {
  app.post(`${options.path}/:id/toggle`, requireRole('editor'), async (c) => {
    const item = await options.find(c, c.req.param('id'));
    if (item === undefined) return options.notFound(c);
    const result = await options.save(c, { ...item, enabled: !item.enabled });
    if (!result.ok) {
      return page(c, {
        title: t(c, `nav.${options.active}`),
        body: html`${configStyle(c)}${problemSummary(c, localizeProblems(c.get('lang'), result.problems))}<p><a href="${options.path}">${t(c, options.back)}</a></p>`,
        active: options.active,
        status: 422,
      });
    }
    await publishChange(c, options.path.slice(1));
    return c.redirect(
      doneUrl(
        `${options.path}#${options.anchor}-${item.id}`,
        item.enabled ? 'disabled' : 'enabled',
        result.version,
      ),
      303,
    );
  });
}

/** A delete confirmation page (GET) and the deletion (POST), for one kind of configuration item. */
export function registerDelete(
  app: Hono<AppEnv>,
  options: {
    readonly path: string;
    readonly active: string;
    readonly noun: string;
    readonly exists: (c: C, id: string) => Promise<boolean>;
    readonly remove: (
      c: C,
      id: string,
    ) => Promise<{ ok: true; version: number } | { ok: false; problems: readonly Problem[] }>;
    readonly notFound: (c: C) => Response | Promise<Response>;
  },
): void {
  const confirmPage = (c: C, id: string, problems: readonly Problem[] = []) =>
    page(c, {
      title: t(c, 'config.deleteTitle', { noun: t(c, options.noun), id }),
      body: html`${configStyle(c)}${problemSummary(c, problems)}
        <form method="post" action="${options.path}/${encodeURIComponent(id)}/delete" class="card">
          ${csrfField(c)}
          <p>${t(c, 'config.deleteConfirm', { noun: t(c, options.noun), id })}</p>
          <button type="submit" class="danger">${t(c, 'config.delete')}</button>
          <a href="${options.path}/${encodeURIComponent(id)}">${t(c, 'config.cancel')}</a>
        </form>`,
      active: options.active,
      status: problems.length > 0 ? 422 : 200,
    });

  app.get(`${options.path}/:id/delete`, requireRole('editor'), async (c) => {
    const id = c.req.param('id');
    if (!(await options.exists(c, id))) return options.notFound(c);
    return confirmPage(c, id);
  });

  app.post(`${options.path}/:id/delete`, requireRole('editor'), async (c) => {
    const id = c.req.param('id');
    if (!(await options.exists(c, id))) return options.notFound(c);
    const result = await options.remove(c, id);
    if (!result.ok) return confirmPage(c, id, localizeProblems(c.get('lang'), result.problems));
    await publishChange(c, options.path.slice(1));
    return c.redirect(doneUrl(options.path, 'deleted', result.version), 303);
  });
}
