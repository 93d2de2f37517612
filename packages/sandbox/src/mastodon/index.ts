export {
  type MastodonAccountJson,
  type MastodonPostEdit,
  type MastodonPostInput,
  type MastodonSandbox,
  type MastodonSandboxAccountInput,
  type MastodonSandboxOptions,
  type MastodonStatusJson,
  type MastodonVisibility,
  startMastodonSandbox,
} from './mastodon-sandbox.ts';
export {
  escapeHtml,
  formatStatusHtml,
  type MentionTarget,
  type StatusHtmlOptions,
  shortenedLink,
} from './status-html.ts';
