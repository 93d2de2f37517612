import {
  type AccountIdentity,
  type AccountTarget,
  AuthFailedError,
  type Connector,
  ConnectorError,
  connectorForAccount,
  IncompleteAccountError,
  RateLimitedError,
  TransientError,
} from '@kikimimi/connectors';
import type { Platform } from '@kikimimi/rules';
import type { Lang } from '../../context.ts';
import { t } from '../../i18n.ts';

export { mastodonCredentialsSchema, type XCredentialsInput, xCredentialsSchema } from '@kikimimi/connectors';

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
  | { readonly ok: true; readonly identity: AccountIdentity }
  | {
      readonly ok: false;
      /** auth_failed, rate_limited, unreachable, refused (other platform errors), invalid (ours). */
      readonly kind: 'auth_failed' | 'rate_limited' | 'unreachable' | 'refused' | 'invalid';
      /** In the user's language; never contains a secret. */
      readonly message: string;
    };

/** A failure of a connector call explained for people, secrets removed. */
export function explainFailure(
  lang: Lang,
  error: unknown,
  secrets: readonly string[],
): Extract<ConnectionResult, { ok: false }> {
  const raw = redact(error instanceof Error ? error.message : String(error), secrets);
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

/** Asks the platform who these credentials are (the connector's verifyCredentials). */
export async function testConnection(lang: Lang, target: ConnectionTarget): Promise<ConnectionResult> {
  const secrets = secretsIn(target.credentials);
  try {
    const connector = buildConnector(target);
    const identity = await withTimeout(
      connector.verifyCredentials(),
      TEST_TIMEOUT_MS + 2_000,
      target.platform,
    );
    return { ok: true, identity };
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
