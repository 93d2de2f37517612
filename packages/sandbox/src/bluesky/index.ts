export {
  type BlueskyFacet,
  type BlueskyPostInput,
  type BlueskyPostViewJson,
  type BlueskySandbox,
  type BlueskySandboxAccount,
  type BlueskySandboxOptions,
  startBlueskySandbox,
} from './bluesky-sandbox.ts';
export { blueskyHandleFor, isBlueskyHandle } from './ids.ts';
