import { z } from 'zod';
import { type Config, configSchema, escalationRuleSchema, templateSchema, watchSchema } from './config.ts';
import { createRulesEngine, type RulesEngine } from './engine.ts';
import {
  type CompiledWatch,
  compileBlueskyQueries,
  compileMastodonSources,
  compileXQueries,
  MAX_SOURCES_PER_ACCOUNT,
} from './platform-queries.ts';
import { PLATFORMS, type Platform } from './post.ts';
import { tryParseQuery } from './query/parse.ts';
import { checkTemplateText } from './templates/render.ts';

/** One thing wrong with a configuration, located by its path (`watches[2].query`) and, for text, an offset. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  /** UTF-16 offset inside the string at `path`, where the problem is. */
  readonly offset?: number;
  /** For problems in a query or a template text: what is wrong (a `QueryErrorCode` or `TemplateProblemCode`). */
  readonly code?: { readonly kind: 'query' | 'template'; readonly code: string; readonly length: number };
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
export function checkConfig(
  config: Config,
  options: { knownWatchIds?: ReadonlySet<string> } = {},
): ConfigProblem[] {
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

  const watchIds = new Set([...config.watches.map((w) => w.id), ...(options.knownWatchIds ?? [])]);
  const unknownWatches = (ids: readonly string[] | undefined, path: string) => {
    ids?.forEach((id, i) => {
      if (!watchIds.has(id)) problems.push({ path: `${path}[${i}]`, message: `no watch has the id "${id}"` });
    });
  };
  const query = (text: string, path: string) => {
    const parsed = tryParseQuery(text);
    if (!parsed.ok) {
      const { code, message, offset, length } = parsed.error;
      problems.push({ path, message, offset, code: { kind: 'query', code, length } });
    }
    return parsed.ok ? parsed.ast : undefined;
  };

  const xOptions = {
    maxLength: config.platforms.x.maxQueryLength,
    excludeReposts: config.platforms.x.excludeReposts,
  };
  const polled: Record<Platform, CompiledWatch[]> = { x: [], mastodon: [], bluesky: [] };
  config.watches.forEach((watch, i) => {
    const ast = query(watch.query, `watches[${i}].query`);
    if (ast === undefined || !watch.enabled) return;
    const on = (platform: Platform) => watch.platforms === undefined || watch.platforms.includes(platform);
    if (on('mastodon')) polled.mastodon.push({ id: watch.id, ast });
    if (on('bluesky')) polled.bluesky.push({ id: watch.id, ast });
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
  const blueskySearches = compileBlueskyQueries(polled.bluesky).queries.length;
  if (blueskySearches > MAX_SOURCES_PER_ACCOUNT) {
    problems.push({
      path: 'watches',
      message: `these watches need ${blueskySearches} Bluesky searches; an account polls at most ${MAX_SOURCES_PER_ACCOUNT} (kikimimi's limit): Bluesky search has no OR, so each alternative of a watch is a search of its own — write fewer alternatives, or limit watches to X and Mastodon`,
    });
  }

  const variableNames = Object.keys(config.variables);
  config.templates.forEach((template, i) => {
    for (const problem of checkTemplateText(template.text, variableNames)) {
      problems.push({
        path: `templates[${i}].text`,
        message: problem.message,
        offset: problem.offset,
        code: { kind: 'template', code: problem.code, length: problem.length },
      });
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

const LISTS = { watches: watchSchema, templates: templateSchema, escalation: escalationRuleSchema } as const;
type ListKey = keyof typeof LISTS;
const KEY_ORDER = Object.keys(configSchema.shape);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The checks beyond the schema, run on what the schema accepts of a configuration it refused: each
 * valid list item (problem paths keep the item's place in the document), each valid section (the
 * default for a refused one). Ids of refused watches still count as known, and variables by name,
 * so one problem is not reported twice under another name.
 */
function checkValidParts(input: Record<string, unknown>, params: ParseParams | undefined): ConfigProblem[] {
  const partial: Record<string, unknown> = {};
  const places = {} as Record<ListKey, number[]>;
  const knownWatchIds = new Set<string>();
  for (const key of KEY_ORDER) {
    const raw = input[key];
    if (key in LISTS) {
      const list = key as ListKey;
      const items: unknown[] = [];
      places[list] = [];
      (Array.isArray(raw) ? raw : []).forEach((item, i) => {
        if (list === 'watches' && isRecord(item) && typeof item.id === 'string') knownWatchIds.add(item.id);
        // An item with a bad field is still checked on its good ones (a template with a bad category
        // still has its placeholders checked), when what it needs is there.
        const parsed = LISTS[list].safeParse(item, params);
        const fields = parsed.success ? undefined : validFields(LISTS[list], item, params);
        // A bad id is reported already; a stand-in (no id can clash with it) lets the rest be checked.
        const stand = isRecord(fields) && !('id' in fields) ? { ...fields, id: `0-unnamed-${i}` } : fields;
        const usable = parsed.success ? parsed : LISTS[list].safeParse(stand, params);
        if (usable.success) {
          items.push(usable.data);
          places[list].push(i);
        }
      });
      partial[key] = items;
    } else if (key === 'variables' && isRecord(raw)) {
      // By name: a variable with a bad value still exists for the templates that use it.
      const names = Object.keys(raw).filter(
        (name) => configSchema.shape.variables.safeParse({ [name]: '' }).success,
      );
      partial[key] = Object.fromEntries(names.map((name) => [name, String(raw[name])]));
    } else {
      const shape = configSchema.shape[key as keyof typeof configSchema.shape];
      if (shape.safeParse(raw, params).success) partial[key] = raw;
      else partial[key] = validFields(shape, raw, params);
    }
  }
  const config = configSchema.safeParse(partial);
  if (!config.success) return [];
  return checkConfig(config.data, { knownWatchIds }).map((problem) => ({
    ...problem,
    path: problem.path.replace(
      /^(watches|templates|escalation)\[(\d+)\]/u,
      (_whole, list: ListKey, i: string) => `${list}[${places[list][Number(i)] ?? i}]`,
    ),
  }));
}

/**
 * The part of a refused object that is valid: each field valid on its own, objects inside taken apart
 * the same way. Undefined when `raw` is no object (or the schema none).
 */
function validFields(shape: z.ZodType, raw: unknown, params: ParseParams | undefined): unknown {
  let inner: z.ZodType = shape;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject) || !isRecord(raw)) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    if (field.safeParse(raw[name], params).success) fields[name] = raw[name];
    else {
      const part = validFields(field, raw[name], params);
      if (part !== undefined && field.safeParse(part, params).success) fields[name] = part;
    }
  }
  return fields;
}

/** Where a path comes in the document: top-level key, then the first index. */
function documentOrder(path: string): [number, number] {
  const match = /^([A-Za-z$]+)(?:\[(\d+)\])?/u.exec(path);
  const key = match?.[1] === undefined ? -1 : KEY_ORDER.indexOf(match[1]);
  return [key, match?.[2] === undefined ? -1 : Number(match[2])];
}

type ParseParams = Parameters<typeof configSchema.safeParse>[1];

/**
 * Validates a configuration (already parsed from JSON) completely and compiles it. Either every
 * problem is listed — schema, query, placeholder and reference problems together, in document order —
 * and nothing is compiled, or the configuration is good and comes with its engine. `params` may carry a
 * zod error map, to phrase the schema's own messages in the reader's language.
 */
export function loadConfig(input: unknown, params?: ParseParams): LoadedConfig {
  const parsed = configSchema.safeParse(input, params);
  if (!parsed.success) {
    const problems = [
      ...zodProblems(parsed.error),
      ...(isRecord(input) ? checkValidParts(input, params) : []),
    ];
    const order = problems.map((p, i) => ({ p, i, at: documentOrder(p.path) }));
    order.sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || a.i - b.i);
    return { ok: false, problems: order.map((o) => o.p) };
  }
  const problems = checkConfig(parsed.data);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: parsed.data, engine: createRulesEngine(parsed.data) };
}
