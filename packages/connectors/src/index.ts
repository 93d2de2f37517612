export * from './bluesky/index.ts';
export * from './credentials.ts';
export * from './errors.ts';
export * from './mastodon/index.ts';
export * from './types.ts';
export * from './x/index.ts';
