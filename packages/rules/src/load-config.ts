import type { z } from 'zod';
import { type Config, configSchema } from './config.ts';
import { createRulesEngine, type RulesEngine } from './engine.ts';
import {
  type CompiledWatch,
  compileMastodonSources,
  compileXQueries,
  MAX_SOURCES_PER_ACCOUNT,
} from './platform-queries.ts';
import { PLATFORMS } from './post.ts';
import { tryParseQuery } from './query/parse.ts';
import { checkTemplateText } from './templates/render.ts';

/** One thing wrong with a configuration, located by its path (`watches[2].query`) and, for text, an offset. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  /** UTF-16 offset inside the string at `path`, where the problem is. */
  readonly offset?: number;
}

export type LoadedConfig =
  | { readonly ok: true; readonly config: Config; readonly engine: RulesEngine }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** `['watches', 2, 'query']` → `watches[2].query`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Checks what the schema alone cannot: query syntax, references between parts, template placeholders. */
export function checkConfig(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const duplicates = (kind: 'watches' | 'templates' | 'escalation') => {
    const seen = new Map<string, number>();
    config[kind].forEach((item, i) => {
      const first = seen.get(item.id);
      if (first !== undefined) {
        problems.push({
          path: `${kind}[${i}].id`,
          message: `duplicate id "${item.id}" (also ${kind}[${first}])`,
        });
      } else {
        seen.set(item.id, i);
      }
    });
  };
  duplicates('watches');
  duplicates('templates');
  duplicates('escalation');

  const watchIds = new Set(config.watches.map((w) => w.id));
  const unknownWatches = (ids: readonly string[] | undefined, path: string) => {
    ids?.forEach((id, i) => {
      if (!watchIds.has(id)) problems.push({ path: `${path}[${i}]`, message: `no watch has the id "${id}"` });
    });
  };
  const query = (text: string, path: string) => {
    const parsed = tryParseQuery(text);
    if (!parsed.ok) problems.push({ path, message: parsed.error.message, offset: parsed.error.offset });
    return parsed.ok ? parsed.ast : undefined;
  };

  const xOptions = {
    maxLength: config.platforms.x.maxQueryLength,
    excludeReposts: config.platforms.x.excludeReposts,
  };
  const polled: Record<'x' | 'mastodon', CompiledWatch[]> = { x: [], mastodon: [] };
  config.watches.forEach((watch, i) => {
    const ast = query(watch.query, `watches[${i}].query`);
    if (ast === undefined || !watch.enabled) return;
    const on = (platform: 'x' | 'mastodon') =>
      watch.platforms === undefined || watch.platforms.includes(platform);
    if (on('mastodon')) polled.mastodon.push({ id: watch.id, ast });
    if (on('x')) {
      polled.x.push({ id: watch.id, ast });
      for (const problem of compileXQueries([{ id: watch.id, ast }], xOptions).problems)
        problems.push({ path: `watches[${i}].query`, message: problem.message });
    }
  });
  // Each source is a request per poll: past the cap an account would never finish a round.
  const xQueries = compileXQueries(polled.x, xOptions).queries.length;
  if (xQueries > MAX_SOURCES_PER_ACCOUNT) {
    problems.push({
      path: 'watches',
      message: `these watches need ${xQueries} X search queries; an account polls at most ${MAX_SOURCES_PER_ACCOUNT} (kikimimi's limit): combine or disable watches, or shorten their queries`,
    });
  }
  const hashtags = compileMastodonSources(polled.mastodon).hashtags.length;
  if (hashtags > MAX_SOURCES_PER_ACCOUNT) {
    problems.push({
      path: 'watches',
      message: `these watches need ${hashtags} Mastodon hashtag timelines; an account follows at most ${MAX_SOURCES_PER_ACCOUNT} (kikimimi's limit): each single word becomes a hashtag, so write phrases ("…") or limit watches to X`,
    });
  }

  const variableNames = Object.keys(config.variables);
  config.templates.forEach((template, i) => {
    for (const problem of checkTemplateText(template.text, variableNames)) {
      problems.push({ path: `templates[${i}].text`, message: problem.message, offset: problem.offset });
    }
    unknownWatches(template.watches, `templates[${i}].watches`);
  });

  config.escalation.forEach((rule, i) => {
    if (rule.when.query !== undefined) query(rule.when.query, `escalation[${i}].when.query`);
    unknownWatches(rule.when.watches, `escalation[${i}].when.watches`);
    const { minFollowers, maxFollowers } = rule.when;
    if (minFollowers !== undefined && maxFollowers !== undefined && minFollowers > maxFollowers) {
      problems.push({
        path: `escalation[${i}].when.minFollowers`,
        message: `minFollowers (${minFollowers}) is larger than maxFollowers (${maxFollowers})`,
      });
    }
  });

  for (const id of Object.keys(config.routing.watches)) {
    if (!watchIds.has(id))
      problems.push({ path: `routing.watches.${id}`, message: `no watch has the id "${id}"` });
  }
  config.suppression.linkedAuthors.forEach((group, i) => {
    group.forEach((ref, j) => {
      const platform = ref.slice(0, ref.indexOf(':'));
      if (!(PLATFORMS as readonly string[]).includes(platform)) {
        problems.push({
          path: `suppression.linkedAuthors[${i}][${j}]`,
          message: `unknown platform "${platform}" (use ${PLATFORMS.join(' or ')}, as in "x:handle")`,
        });
      }
    });
  });
  return problems;
}

/**
 * Validates a configuration (already parsed from JSON) completely and compiles it. Either every
 * problem is listed and nothing is compiled, or the configuration is good and comes with its engine.
 */
export function loadConfig(input: unknown): LoadedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const problems = checkConfig(parsed.data);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: parsed.data, engine: createRulesEngine(parsed.data) };
}
