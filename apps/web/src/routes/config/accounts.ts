import { ConflictError, InvalidInputError, type PlatformAccount, type SourceState } from '@kikimimi/db';
import type { Platform } from '@kikimimi/rules';
import { z } from 'zod';
import type { Lang, WebDeps } from '../../context.ts';
import { t } from '../../i18n.ts';
import { blueskyCredentialsSchema, mastodonCredentialsSchema, xCredentialsSchema } from './connectors.ts';
import { localizeProblems, type Problem, validate } from './shared.ts';

/** X bills about this much per post read (README, "Connecting X and Mastodon"); always shown as an estimate. */
export const X_COST_PER_POST_READ = 0.005;

/** An account's state as the console shows it: sources, this month's usage and cost, the last error. */
export interface AccountStatus {
  readonly account: PlatformAccount;
  readonly sources: readonly SourceState[];
  /** `YYYY-MM` (UTC). */
  readonly month: string;
  readonly postsRead: number;
  readonly requests: number;
  readonly replies: number;
  /** X only: posts read × $0.005 — an estimate, the developer console has the bill. */
  readonly estimatedCostUsd: number | null;
  readonly lastError: { readonly source: string; readonly message: string; readonly at: Date | null } | null;
  /** X only: what following customers' answers costs now (see followCost). */
  readonly follow: FollowCost | null;
}

/**
 * The cost of following cases on X: one request to the mention timeline every
 * `conversations.checkEveryMinutes`, for all of the account's followed cases at once, and none while no
 * case is followed. The posts those requests read are measured with the rest (postsRead).
 */
export interface FollowCost {
  /** Cases of the account whose follow window is open now. */
  readonly followedCases: number;
  readonly checkEveryMinutes: number;
  /** 24 × 60 / checkEveryMinutes while a case is followed, else 0. */
  readonly requestsPerDay: number;
  /** requestsPerDay / followedCases; null without followed cases. */
  readonly requestsPerCasePerDay: number | null;
}

export function followCost(followedCases: number, checkEveryMinutes: number): FollowCost {
  const requestsPerDay = followedCases === 0 ? 0 : (24 * 60) / checkEveryMinutes;
  return {
    followedCases,
    checkEveryMinutes,
    requestsPerDay,
    requestsPerCasePerDay: followedCases === 0 ? null : requestsPerDay / followedCases,
  };
}

/** The most followed replies counted for the estimate (an account follows far fewer). */
const FOLLOWED_LIMIT = 50_000;

export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export async function accountStatus(
  deps: WebDeps,
  account: PlatformAccount,
  now: Date,
): Promise<AccountStatus> {
  const [sources, usage, followed, { config }] = await Promise.all([
    deps.repos.sources.list(account.id),
    deps.repos.sources.usage(account.id, monthStart(now), now),
    account.platform === 'x'
      ? deps.repos.cases.followed(account.id, now, FOLLOWED_LIMIT)
      : Promise.resolve([]),
    deps.repos.config.current(),
  ]);
  const sum = (key: 'postsRead' | 'requests' | 'replies') =>
    usage.reduce((total, day) => total + day[key], 0);
  const postsRead = sum('postsRead');
  const failing = sources
    .filter((s) => s.lastError !== null)
    .sort((a, b) => (b.lastErrorAt?.getTime() ?? 0) - (a.lastErrorAt?.getTime() ?? 0))[0];
  return {
    account,
    sources,
    month: now.toISOString().slice(0, 7),
    postsRead,
    requests: sum('requests'),
    replies: sum('replies'),
    estimatedCostUsd:
      account.platform === 'x' ? Math.round(postsRead * X_COST_PER_POST_READ * 1000) / 1000 : null,
    lastError: failing
      ? { source: failing.sourceKey, message: failing.lastError ?? '', at: failing.lastErrorAt }
      : null,
    // A case followed through several replies (follow-ups) is one case.
    follow:
      account.platform === 'x' && account.enabled
        ? followCost(new Set(followed.map((f) => f.matchId)).size, config.conversations.checkEveryMinutes)
        : null,
  };
}

/** An account as the JSON API shows it: never any secret (the repository never returns them). */
export function accountJson(status: AccountStatus) {
  return {
    ...status.account,
    usage: {
      month: status.month,
      postsRead: status.postsRead,
      requests: status.requests,
      replies: status.replies,
      estimatedCostUsd: status.estimatedCostUsd,
      estimate: status.estimatedCostUsd === null ? undefined : `about $${X_COST_PER_POST_READ} per post read`,
      follow: status.follow,
    },
    sources: status.sources.map(({ cursor: _cursor, ...source }) => source),
    lastError: status.lastError,
  };
}

const httpUrl = z.url({ protocol: /^https?$/u }).max(2000);

/** The account fields (not the credentials), as the repository takes them; messages in the user's language. */
export const accountFieldsSchema = z.object({
  label: z.string().trim().min(1).max(100),
  baseUrl: httpUrl.nullable().optional(),
  streamingUrl: httpUrl.nullable().optional(),
  enabled: z.boolean().optional(),
  pollIntervalSeconds: z.number().int().min(1).max(86_400).optional(),
  streamEnabled: z.boolean().optional(),
});

/** Checks credentials for the platform; problem paths are the credential's own keys (`appKey`, `accessToken`). */
export function checkCredentials(lang: Lang, platform: Platform, credentials: unknown): Problem[] {
  const checked = validate(
    platform === 'x'
      ? xCredentialsSchema
      : platform === 'bluesky'
        ? blueskyCredentialsSchema
        : mastodonCredentialsSchema,
    credentials,
    lang,
  );
  return checked.ok ? [] : checked.problems;
}

/** The repository's refusals as problems: invalid input (with paths) or a label already taken. */
export function repositoryProblems(lang: Lang, error: unknown): Problem[] | null {
  if (error instanceof InvalidInputError) return localizeProblems(lang, error.problems);
  if (error instanceof ConflictError)
    return [{ path: 'label', message: t(lang, 'config.account.labelTaken') }];
  return null;
}
