import type { Platform } from '@kikimimi/rules';
import { z } from 'zod';
import { BLUESKY_DEFAULT_SERVICE, createBlueskyConnector } from './bluesky/index.ts';
import { ConnectorError } from './errors.ts';
import { createMastodonConnector } from './mastodon/index.ts';
import type { Connector } from './types.ts';
import { createXConnector } from './x/index.ts';

/*
 * An account's credentials as kikimimi stores them (encrypted) and the connector built from them: one
 * definition for the console (forms, "test connection", watch preview) and the worker (polling,
 * streaming, replying).
 */

/** X: an OAuth 2.0 user access token, or the four OAuth 1.0a values. */
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
export type XCredentialsInput = z.infer<typeof xCredentialsSchema>;

/** Mastodon: an access token of the instance (the instance is the account's base URL). */
export const mastodonCredentialsSchema = z.object({ accessToken: z.string().min(1) });

/**
 * Bluesky: the account's handle (or DID) and an app password; the PDS is the account's baseUrl
 * (default https://bsky.social).
 */
export const blueskyCredentialsSchema = z.object({
  identifier: z.string().trim().min(1),
  appPassword: z.string().min(1),
});
export type BlueskyCredentialsInput = z.infer<typeof blueskyCredentialsSchema>;

/** Where and how to reach an account. */
export interface AccountTarget {
  readonly platform: Platform;
  /** X: the API's base URL when not X itself (a stand-in); Mastodon: the instance; Bluesky: the PDS. */
  readonly baseUrl: string | null;
  /** Mastodon: the streaming server when not the instance; Bluesky: the firehose (default the relay). */
  readonly streamingUrl: string | null;
  /** The decrypted credentials, checked here. */
  readonly credentials: unknown;
}

/** The account cannot be reached as configured: `fields` names what is missing or malformed. */
export class IncompleteAccountError extends ConnectorError {
  override readonly name = 'IncompleteAccountError';
  readonly retryable = false;
  readonly fields: readonly string[];
  constructor(platform: Platform, fields: readonly string[], message: string) {
    super(platform, message);
    this.fields = fields;
  }
}

const fieldsOf = (error: z.ZodError) => [...new Set(error.issues.map((i) => i.path.join('.') || '(all)'))];

/** The connector for an account; IncompleteAccountError when its credentials or address are incomplete. */
export function connectorForAccount(
  target: AccountTarget,
  options: {
    timeoutMs?: number;
    /**
     * Bluesky identity resolution for a network other than Bluesky's own (a self-run PLC directory, a
     * test network): see BlueskyConnectorOptions.plcUrl and identityFetch.
     */
    bluesky?: { readonly plcUrl?: string; readonly identityFetch?: typeof globalThis.fetch };
  } = {},
): Connector {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  if (target.platform === 'x') {
    const parsed = xCredentialsSchema.safeParse(target.credentials);
    if (!parsed.success) {
      const fields = fieldsOf(parsed.error);
      throw new IncompleteAccountError(
        'x',
        fields,
        `the X credentials are incomplete (${fields.join(', ')})`,
      );
    }
    return createXConnector({
      ...(target.baseUrl ? { baseUrl: target.baseUrl } : {}),
      credentials: parsed.data,
      ...timeout,
    });
  }
  if (target.platform === 'bluesky') {
    const parsed = blueskyCredentialsSchema.safeParse(target.credentials);
    if (!parsed.success) {
      const fields = fieldsOf(parsed.error);
      throw new IncompleteAccountError(
        'bluesky',
        fields,
        `the Bluesky credentials are incomplete (${fields.join(', ')}): a handle and an app password`,
      );
    }
    return createBlueskyConnector({
      service: target.baseUrl ?? BLUESKY_DEFAULT_SERVICE,
      identifier: parsed.data.identifier,
      appPassword: parsed.data.appPassword,
      ...(target.streamingUrl ? { relayUrl: target.streamingUrl } : {}),
      ...(options.bluesky?.plcUrl ? { plcUrl: options.bluesky.plcUrl } : {}),
      ...(options.bluesky?.identityFetch ? { identityFetch: options.bluesky.identityFetch } : {}),
      ...timeout,
    });
  }
  const parsed = mastodonCredentialsSchema.safeParse(target.credentials);
  if (!parsed.success)
    throw new IncompleteAccountError(
      'mastodon',
      fieldsOf(parsed.error),
      'the Mastodon access token is missing',
    );
  if (!target.baseUrl)
    throw new IncompleteAccountError('mastodon', ['baseUrl'], 'the Mastodon instance URL is missing');
  return createMastodonConnector({
    url: target.baseUrl,
    accessToken: parsed.data.accessToken,
    ...(target.streamingUrl ? { streamingUrl: target.streamingUrl } : {}),
    ...timeout,
  });
}
