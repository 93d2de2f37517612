import { type Connector, connectorForAccount, IncompleteAccountError } from '@kikimimi/connectors';

/** How the worker resolves Bluesky identities when not on Bluesky's own network (see WorkerOptions.bluesky). */
export interface BlueskyNetworkOptions {
  readonly plcUrl?: string;
  readonly identityFetch?: typeof globalThis.fetch;
}

import type { PlatformAccount } from '@kikimimi/db';

/** Builds the connector for an account from its (decrypted) credentials. */
export function connectorFor(
  account: PlatformAccount,
  credentials: unknown,
  bluesky?: BlueskyNetworkOptions,
): Connector {
  try {
    return connectorForAccount({ ...account, credentials }, bluesky ? { bluesky } : {});
  } catch (error) {
    if (error instanceof IncompleteAccountError)
      throw new Error(`account ${account.label}: ${error.message}`);
    throw error;
  }
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
