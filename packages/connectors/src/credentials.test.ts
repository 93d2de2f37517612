import { describe, expect, it } from 'vitest';
import {
  connectorForAccount,
  IncompleteAccountError,
  mastodonCredentialsSchema,
  xCredentialsSchema,
} from './credentials.ts';

const x = (credentials: unknown) => ({
  platform: 'x' as const,
  baseUrl: null,
  streamingUrl: null,
  credentials,
});
const mastodon = (credentials: unknown, baseUrl: string | null = 'https://mstdn.example') => ({
  platform: 'mastodon' as const,
  baseUrl,
  streamingUrl: null,
  credentials,
});

function incomplete(build: () => unknown): IncompleteAccountError {
  try {
    build();
  } catch (error) {
    if (error instanceof IncompleteAccountError) return error;
    throw error;
  }
  throw new Error('expected IncompleteAccountError');
}

describe('connectorForAccount', () => {
  it('builds the X connector from an OAuth 2.0 token or the four OAuth 1.0a values', () => {
    expect(connectorForAccount(x({ kind: 'oauth2', accessToken: 't' })).platform).toBe('x');
    const oauth1 = { kind: 'oauth1', appKey: 'a', appSecret: 'b', accessToken: 'c', accessSecret: 'd' };
    expect(connectorForAccount(x(oauth1)).platform).toBe('x');
    expect(xCredentialsSchema.safeParse(oauth1).success).toBe(true);
  });

  it('names what is missing in incomplete X credentials, never their values', () => {
    const error = incomplete(() =>
      connectorForAccount(x({ kind: 'oauth1', appKey: 'secret-app-key', appSecret: '', accessToken: 'c' })),
    );
    expect(error.platform).toBe('x');
    expect(error.retryable).toBe(false);
    expect(error.fields).toEqual(['appSecret', 'accessSecret']);
    expect(error.message).toBe('the X credentials are incomplete (appSecret, accessSecret)');
    expect(error.message).not.toContain('secret-app-key');
    expect(incomplete(() => connectorForAccount(x(null))).fields).toEqual(['(all)']);
    expect(incomplete(() => connectorForAccount(x({ kind: 'basic' }))).fields).toEqual(['kind']);
  });

  it('builds the Mastodon connector, and refuses a missing token or instance', () => {
    expect(connectorForAccount(mastodon({ accessToken: 'tok' })).platform).toBe('mastodon');
    expect(mastodonCredentialsSchema.safeParse({ accessToken: '' }).success).toBe(false);
    expect(incomplete(() => connectorForAccount(mastodon({}))).fields).toEqual(['accessToken']);
    const noInstance = incomplete(() => connectorForAccount(mastodon({ accessToken: 'tok' }, null)));
    expect(noInstance.fields).toEqual(['baseUrl']);
    expect(noInstance.message).toBe('the Mastodon instance URL is missing');
  });
});
