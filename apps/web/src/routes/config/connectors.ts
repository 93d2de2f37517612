import {
  type AccountIdentity,
  type AccountTarget,
  AuthFailedError,
  type Connector,
  ConnectorError,
  connectorForAccount,
  IncompleteAccountError,
  type InstanceInfo,
  RateLimitedError,
  TransientError,
} from '@kikimimi/connectors';
import type { Platform } from '@kikimimi/rules';
import type { Lang } from '../../context.ts';
import { t } from '../../i18n.ts';
import { checkDestination } from './destination-guard.ts';

export {
  blueskyCredentialsSchema,
  mastodonCredentialsSchema,
  type XCredentialsInput,
  xCredentialsSchema,
} from '@kikimimi/connectors';

/** Where and how to reach an account: what a connection test needs. */
export type ConnectionTarget = AccountTarget;

/** How long a connection test waits for the platform. */
export const TEST_TIMEOUT_MS = 10_000;

/** Every string inside the credentials: never to appear in anything shown. */
export function secretsIn(credentials: unknown): string[] {
  if (typeof credentials === 'string') return credentials.length >= 4 ? [credentials] : [];
  if (credentials === null || typeof credentials !== 'object') return [];
  return Object.entries(credentials as Record<string, unknown>).flatMap(([key, value]) =>
    key === 'kind' ? [] : secretsIn(value),
  );
}

export function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** Builds the connector the worker would build for these credentials (refusing incomplete ones). */
export function buildConnector(target: ConnectionTarget, timeoutMs = TEST_TIMEOUT_MS): Connector {
  return connectorForAccount(target, { timeoutMs });
}

export type ConnectionResult =
  | {
      readonly ok: true;
      readonly identity: AccountIdentity;
      /** What the server says about itself (Mastodon), when it answered. */
      readonly instance?: InstanceInfo | undefined;
    }
  | {
      readonly ok: false;
      /**
       * auth_failed, rate_limited, unreachable, refused (other platform errors), invalid (ours),
       * private (a loopback/private/link-local destination, not allowed: see destination-guard.ts).
       */
      readonly kind: 'auth_failed' | 'rate_limited' | 'unreachable' | 'refused' | 'invalid' | 'private';
      /** In the user's language; never contains a secret. */
      readonly message: string;
    };

/**
 * What may be said of a failure: the HTTP status and the network error code in it, never its text
 * (which can quote whatever the other server answered: an internal service's body, say).
 */
export function failureDetail(message: string): string {
  const parts = [
    ...new Set([
      ...[...message.matchAll(/\b([1-5]\d\d)\b/gu)].map((m) => `HTTP ${m[1]}`),
      ...[...message.matchAll(/\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/gu)].map((m) => m[1] as string),
      ...(/timed out|timeout|no answer within/iu.test(message) ? ['timeout'] : []),
    ]),
  ];
  return parts.length > 0 ? parts.slice(0, 3).join(', ') : 'no details';
}

/** A failure of a connector call explained for people: secrets removed, nothing of a foreign answer. */
export function explainFailure(
  lang: Lang,
  error: unknown,
  secrets: readonly string[],
): Extract<ConnectionResult, { ok: false }> {
  const raw = failureDetail(redact(error instanceof Error ? error.message : String(error), secrets));
  if (error instanceof IncompleteAccountError) {
    return {
      ok: false,
      kind: 'invalid',
      message: t(lang, 'config.connect.incomplete', { fields: error.fields.join(', ') }),
    };
  }
  if (error instanceof AuthFailedError) {
    return { ok: false, kind: 'auth_failed', message: t(lang, 'config.connect.authFailed', { detail: raw }) };
  }
  if (error instanceof RateLimitedError) {
    return {
      ok: false,
      kind: 'rate_limited',
      message: t(lang, 'config.connect.rateLimited', { at: error.resetAt.toISOString() }),
    };
  }
  if (error instanceof TransientError) {
    return {
      ok: false,
      kind: 'unreachable',
      message: t(lang, 'config.connect.unreachable', { detail: raw }),
    };
  }
  if (error instanceof ConnectorError) {
    return { ok: false, kind: 'refused', message: t(lang, 'config.connect.refused', { detail: raw }) };
  }
  return { ok: false, kind: 'unreachable', message: t(lang, 'config.connect.unreachable', { detail: raw }) };
}

/**
 * Problems of the addresses an account would be saved with (`baseUrl`, `streamingUrl`): the worker
 * polls them with the token, so a loopback, private or link-local one is refused like in a test.
 */
export async function addressProblems(
  lang: Lang,
  fields: Readonly<Record<string, unknown>>,
  options: { readonly allowPrivateNetworks: boolean },
): Promise<Array<{ path: string; message: string }>> {
  const problems: Array<{ path: string; message: string }> = [];
  for (const path of ['baseUrl', 'streamingUrl']) {
    const url = fields[path];
    if (typeof url !== 'string' || url === '') continue;
    const destination = await checkDestination(url, { allowPrivate: options.allowPrivateNetworks });
    if (!destination.ok) {
      const key = destination.reason === 'private' ? 'config.connect.private' : 'config.connect.badAddress';
      problems.push({ path, message: t(lang, key, { host: destination.host }) });
    }
  }
  return problems;
}

/** Where each platform is first asked (without credentials) to see where it redirects. */
const PROBE_PATH: Record<Platform, string> = {
  mastodon: '/api/v1/instance',
  x: '/2/openapi.json',
  bluesky: '/xrpc/_health',
};

/**
 * Asks the platform who these credentials are (the connector's verifyCredentials), unless its
 * address is loopback, private or link-local and `allowPrivateNetworks` is off.
 */
export async function testConnection(
  lang: Lang,
  target: ConnectionTarget,
  options: { readonly allowPrivateNetworks: boolean },
): Promise<ConnectionResult> {
  const secrets = secretsIn(target.credentials);
  if (target.baseUrl) {
    const destination = await checkDestination(target.baseUrl, {
      allowPrivate: options.allowPrivateNetworks,
      probePath: PROBE_PATH[target.platform],
    });
    if (!destination.ok) {
      const key = destination.reason === 'private' ? 'config.connect.private' : 'config.connect.badAddress';
      return {
        ok: false,
        kind: destination.reason === 'private' ? 'private' : 'invalid',
        message: t(lang, key, { host: destination.host }),
      };
    }
  }
  try {
    const connector = buildConnector(target);
    const identity = await withTimeout(
      connector.verifyCredentials(),
      TEST_TIMEOUT_MS + 2_000,
      target.platform,
    );
    // The server's version and search capability: shown, never a reason to refuse the account.
    const instance = await withTimeout(
      connector.describeInstance?.() ?? Promise.resolve(undefined),
      TEST_TIMEOUT_MS,
      target.platform,
    ).catch(() => undefined);
    return { ok: true, identity, instance };
  } catch (error) {
    return explainFailure(lang, error, secrets);
  }
}

/** A promise that gives up after `ms` (the connectors time out requests, this bounds retries too). */
export function withTimeout<T>(promise: Promise<T>, ms: number, platform: Platform): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(platform, `no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
