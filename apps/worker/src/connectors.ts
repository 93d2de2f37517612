import { type Connector, createMastodonConnector, createXConnector } from '@kikimimi/connectors';
import type { PlatformAccount } from '@kikimimi/db';
import { z } from 'zod';

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

/** Builds the connector for an account from its (decrypted) credentials. */
export function connectorFor(account: PlatformAccount, credentials: unknown): Connector {
  if (account.platform === 'x') {
    const parsed = xCredentialsSchema.safeParse(credentials);
    if (!parsed.success)
      throw new Error(
        `account ${account.label}: X credentials are incomplete (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`,
      );
    return createXConnector({
      ...(account.baseUrl ? { baseUrl: account.baseUrl } : {}),
      credentials: parsed.data,
    });
  }
  const parsed = mastodonCredentialsSchema.safeParse(credentials);
  if (!parsed.success) throw new Error(`account ${account.label}: the Mastodon access token is missing`);
  if (!account.baseUrl) throw new Error(`account ${account.label}: the Mastodon instance URL is missing`);
  return createMastodonConnector({
    url: account.baseUrl,
    accessToken: parsed.data.accessToken,
    ...(account.streamingUrl ? { streamingUrl: account.streamingUrl } : {}),
  });
}

/** Connectors cached per account and its last update, so credentials are decrypted once. */
export function createConnectorCache(load: (account: PlatformAccount) => Promise<Connector>) {
  const cache = new Map<string, { updatedAt: number; connector: Promise<Connector> }>();
  return {
    get(account: PlatformAccount): Promise<Connector> {
      const hit = cache.get(account.id);
      if (hit !== undefined && hit.updatedAt === account.updatedAt.getTime()) return hit.connector;
      const connector = load(account);
      cache.set(account.id, { updatedAt: account.updatedAt.getTime(), connector });
      connector.catch(() => cache.delete(account.id));
      return connector;
    },
  };
}
export type ConnectorCache = ReturnType<typeof createConnectorCache>;
