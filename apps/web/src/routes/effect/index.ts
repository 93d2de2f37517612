import type { CustomerAnswer, CustomerVoice, EffectStats } from '@kikimimi/db';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { page } from '../../layout.ts';
import { deskActor } from '../inbox/actions.ts';
import { type C, depsOf, encodeCursor, LOCAL_TIME_SCRIPT, userOf } from '../inbox/shared.ts';
import { surgeJson } from '../surge-marks.ts';
import { digestBody, digestCsv, loadDigestPage, parseDigestForm } from './digest.ts';
import {
  ANSWERS_PAGE,
  answersCsv,
  answersQuery,
  csvHeaders,
  effectBody,
  loadEffectPage,
  parseEffectForm,
} from './effect.ts';
import { departmentSuggestions, voiceForm, voiceRefusal } from './voice.ts';

/*
 * The effect of our replies (/effect, /effect.csv), the digest (/digest, /digest.csv) and tagging a
 * case as a customer voice (POST /inbox/:id/voice), as pages (`effectRoutes`, mounted at '/') and as
 * JSON (`effectApi`, mounted at '/api'). Everyone signed in reads; editors and admins tag.
 */

const problemsOf = (errors: Readonly<Record<string, string>>) =>
  Object.entries(errors).map(([path, message]) => ({ path, message }));

export function effectRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/effect', requireUser, async (c) => {
    const form = parseEffectForm(c);
    const data = await loadEffectPage(depsOf(c).repos, form, depsOf(c).now());
    return page(c, {
      title: t(c, 'effect.title'),
      body: effectBody(c, form, data),
      active: 'effect',
      script: LOCAL_TIME_SCRIPT,
      ...(Object.keys(form.errors).length > 0 ? { status: 400 as const } : {}),
    });
  });

  app.get('/effect.csv', requireUser, async (c) => {
    const form = parseEffectForm(c);
    const errors = Object.entries(form.errors).filter(([field]) => field !== 'before');
    if (errors.length > 0)
      return c.text(errors.map(([field, message]) => `${field}: ${message}`).join('\n'), 400);
    const { repos, now } = depsOf(c);
    const period = await repos.stats.period({ now: now(), days: form.days, timeZone: form.timeZone });
    return new Response(answersCsv(repos, answersQuery(form, period)), {
      headers: csvHeaders('answers', now()),
    });
  });

  app.get('/digest', requireUser, async (c) => {
    const { repos, now } = depsOf(c);
    const { config } = await repos.config.current();
    const form = await parseDigestForm(c, repos, config, now());
    const data = await loadDigestPage(repos, form);
    return page(c, {
      title: t(c, 'digest.title'),
      body: digestBody(c, form, data, config),
      active: 'digest',
      script: LOCAL_TIME_SCRIPT,
      ...(form.error ? { status: 400 as const } : {}),
    });
  });

  app.get('/digest.csv', requireUser, async (c) => {
    const { repos, now } = depsOf(c);
    const { config } = await repos.config.current();
    const form = await parseDigestForm(c, repos, config, now());
    if (form.error) return c.text(`period: ${form.error}`, 400);
    return new Response(digestCsv(repos, form), { headers: csvHeaders('digest', now()) });
  });

  app.post('/inbox/:id/voice', requireRole('editor'), async (c) => {
    const id = c.req.param('id');
    const body = await c.req.parseBody();
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const input = { department: text(body.department), summary: text(body.summary) };
    const outcome = await depsOf(c).desk.tagVoice(deskActor(userOf(c)), id, input);
    if (outcome.ok) {
      await depsOf(c).relayOutbox();
      return c.redirect(`/inbox/${outcome.match.id}#voice`, 303);
    }
    const refusal = voiceRefusal(c, outcome);
    return voicePage(c, id, refusal.status, refusal.message, {
      ...input,
      errors: Object.fromEntries(refusal.problems.map((p) => [p.path, p.message])),
    });
  });

  return app;
}

/** The form alone, with what was refused (the match page has it too). */
async function voicePage(
  c: C,
  id: string,
  status: 403 | 404 | 409 | 422,
  message: string,
  state: { department: string; summary: string; errors: Record<string, string> },
) {
  const { repos } = depsOf(c);
  const match = status === 404 ? null : await repos.matches.get(id);
  const [{ config }, events] = await Promise.all([
    repos.config.current(),
    match === null ? Promise.resolve([]) : repos.cases.events(match.id),
  ]);
  return page(c, {
    title: t(c, 'voice.title'),
    body:
      match === null
        ? html`<p>${t(c, 'inbox.error.notFoundText')}</p>`
        : voiceForm(c, match, { events, departments: departmentSuggestions(config), state }),
    flash: { kind: 'error', text: message },
    active: 'inbox',
    status,
  });
}

// ---------------------------------------------------------------------------------------------
// JSON API

const answerJson = (a: CustomerAnswer) => ({
  ...a,
  at: a.at.toISOString(),
  reply: { ...a.reply, sentAt: a.reply.sentAt?.toISOString() ?? null },
});

const voiceJson = (v: CustomerVoice) => ({ ...v, at: v.at.toISOString() });

const effectJson = (effect: EffectStats) => ({
  ...effect,
  period: { from: effect.period.from.toISOString(), to: effect.period.to.toISOString() },
});

export function effectApi(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/effect', requireUser, async (c) => {
    const form = parseEffectForm(c);
    const errors = problemsOf(form.errors);
    if (errors.length > 0) return c.json({ error: 'invalid', message: 'bad query', problems: errors }, 400);
    const { repos, now } = depsOf(c);
    const period = await repos.stats.period({ now: now(), days: form.days, timeZone: form.timeZone });
    const { kind: _kind, ...query } = answersQuery(form, period);
    return c.json(effectJson(await repos.stats.effect(query)));
  });

  api.get('/effect/answers', requireUser, async (c) => {
    const form = parseEffectForm(c);
    const errors = problemsOf(form.errors);
    const limitText = c.req.query('limit');
    const limit = limitText === undefined || limitText === '' ? ANSWERS_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      errors.push({ path: 'limit', message: 'an integer from 1 to 500' });
    if (errors.length > 0) return c.json({ error: 'invalid', message: 'bad query', problems: errors }, 400);
    const { repos, now } = depsOf(c);
    const period = await repos.stats.period({ now: now(), days: form.days, timeZone: form.timeZone });
    const answers = await repos.stats.answers(answersQuery(form, period), {
      limit: limit + 1,
      before: form.before,
    });
    const shown = answers.slice(0, limit);
    const last = shown[shown.length - 1];
    return c.json({
      items: shown.map(answerJson),
      nextCursor: answers.length > limit && last ? encodeCursor(last.at, last.id) : null,
    });
  });

  api.get('/digest', requireUser, async (c) => {
    const { repos, now } = depsOf(c);
    const { config } = await repos.config.current();
    const form = await parseDigestForm(c, repos, config, now());
    if (form.error)
      return c.json(
        { error: 'invalid', message: 'bad query', problems: [{ path: 'from', message: form.error }] },
        400,
      );
    const data = await loadDigestPage(repos, form);
    return c.json({
      period: { from: form.from.toISOString(), to: form.to.toISOString() },
      effect: effectJson(data.effect),
      voices: data.voices.map(voiceJson),
      moreVoices: data.more,
      surges: data.surges.map(surgeJson),
      moreSurges: data.moreSurges,
    });
  });

  api.post('/matches/:id/voice', requireRole('editor'), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'invalid_json', message: t(c, 'inbox.error.invalidJson') }, 400);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return c.json({ error: 'invalid_json', message: t(c, 'inbox.error.invalidJson') }, 400);
    }
    const input = body as { department?: unknown; summary?: unknown };
    const outcome = await depsOf(c).desk.tagVoice(deskActor(userOf(c)), c.req.param('id'), {
      department: input.department,
      summary: input.summary,
    });
    if (!outcome.ok) {
      const refusal = voiceRefusal(c, outcome);
      return c.json(
        {
          error: refusal.error,
          message: refusal.message,
          ...(refusal.problems.length > 0 ? { problems: refusal.problems } : {}),
        },
        refusal.status,
      );
    }
    const queued = await depsOf(c).relayOutbox();
    const event = outcome.event;
    return c.json({
      ok: true,
      result: outcome.kind,
      voice: event
        ? {
            id: event.id,
            department: event.detail.department,
            summary: event.text,
            at: event.at.toISOString(),
          }
        : null,
      queued,
    });
  });

  return api;
}
