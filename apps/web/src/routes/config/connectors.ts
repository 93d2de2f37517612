import {
  type AccountIdentity,
  AuthFailedError,
  type Connector,
  ConnectorError,
  createMastodonConnector,
  createXConnector,
  RateLimitedError,
  TransientError,
} from '@kikimimi/connectors';
import type { Platform } from '@kikimimi/rules';
import { z } from 'zod';
import type { Lang } from '../../context.ts';
import { t } from '../../i18n.ts';

/*
 * Credentials as the worker reads them (apps/worker/src/connectors.ts; the web never imports the worker,
 * so the two schemas are kept identical by hand — the worker's is the reference).
 */
export const xCredentialsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('oauth2'), accessToken: z.string().min(1) }),
  z.object({
    kind: z.literal('oauth1'),
    appKey: z.string().min(1),
    appSecret: z.string().min(1),
    accessToken: z.string().min(1),
    accessSecret: z.string().min(1),
  }),
]);
export const mastodonCredentialsSchema = z.object({ accessToken: z.string().min(1) });

export type XCredentialsInput = z.infer<typeof xCredentialsSchema>;

/** Where and how to reach an account: what a connection test needs. */
export interface ConnectionTarget {
  readonly platform: Platform;
  readonly baseUrl: string | null;
  readonly streamingUrl: string | null;
  readonly credentials: unknown;
}

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
  if (target.platform === 'x') {
    const credentials = xCredentialsSchema.parse(target.credentials);
    return createXConnector({
      ...(target.baseUrl ? { baseUrl: target.baseUrl } : {}),
      credentials,
      timeoutMs,
    });
  }
  const { accessToken } = mastodonCredentialsSchema.parse(target.credentials);
  if (!target.baseUrl) throw new Error('the Mastodon instance URL is missing');
  return createMastodonConnector({
    url: target.baseUrl,
    accessToken,
    ...(target.streamingUrl ? { streamingUrl: target.streamingUrl } : {}),
    timeoutMs,
  });
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
  if (error instanceof z.ZodError) {
    const fields = error.issues.map((i) => i.path.join('.')).join(', ');
    return { ok: false, kind: 'invalid', message: t(lang, 'config.connect.incomplete', { fields }) };
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
