export { type HtmlToTextOptions, mastodonHtmlToText } from './html-to-text.ts';
export {
  createMastodonConnector,
  MASTODON_MAX_PAGE_SIZE,
  type MastodonConnectorOptions,
} from './mastodon-connector.ts';
export type { ReconnectPolicy } from './mastodon-stream.ts';
