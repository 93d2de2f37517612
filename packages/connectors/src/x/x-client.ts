import { Agent as HttpAgent } from 'node:http';
import { type IClientSettings, type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';

/** How the connector signs in to X. */
export type XCredentials =
  | {
      /** An OAuth 2.0 user-context access token (or an app-only bearer token, which can read but not reply). */
      readonly kind: 'oauth2';
      readonly accessToken: string;
    }
  | {
      /** OAuth 1.0a user context: the app's consumer keys and the account's access token. */
      readonly kind: 'oauth1';
      readonly appKey: string;
      readonly appSecret: string;
      readonly accessToken: string;
      readonly accessSecret: string;
    };

/** X's API origin; twitter-api-v2 builds every URL on it. */
export const X_API_ORIGIN = 'https://api.x.com/';

/** The secrets in `credentials`, to keep out of error messages. */
export function secretsOf(credentials: XCredentials): string[] {
  return credentials.kind === 'oauth2'
    ? [credentials.accessToken]
    : [credentials.appKey, credentials.appSecret, credentials.accessToken, credentials.accessSecret];
}

/**
 * A twitter-api-v2 client for `baseUrl`. The library has no base-URL setting (and `cloneWithPrefix`
 * throws), so a plugin moves each request from api.x.com to `baseUrl` before it is built and signed;
 * the same plugin sets the timeout. For `https://api.x.com` it changes nothing but the timeout.
 */
export function createXApiClient(baseUrl: string, credentials: XCredentials, timeoutMs: number): TwitterApi {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const plugin: ITwitterApiClientPlugin = {
    onBeforeRequestConfig({ params }) {
      if (base !== X_API_ORIGIN && params.url.startsWith(X_API_ORIGIN)) {
        params.url = base + params.url.slice(X_API_ORIGIN.length);
      }
      params.timeout ??= timeoutMs;
    },
  };
  const settings: Partial<IClientSettings> = { plugins: [plugin] };
  if (base.startsWith('http://')) {
    // twitter-api-v2 sends through node:https, which accepts an http:// URL only with an http agent.
    settings.httpAgent = new HttpAgent();
    settings.compression = 'identity';
  }
  return credentials.kind === 'oauth2'
    ? new TwitterApi(credentials.accessToken, settings)
    : new TwitterApi(
        {
          appKey: credentials.appKey,
          appSecret: credentials.appSecret,
          accessToken: credentials.accessToken,
          accessSecret: credentials.accessSecret,
        },
        settings,
      );
}
