export * from './bluesky/index.ts';
export * from './discord/index.ts';
export * from './faults.ts';
export * from './generator/index.ts';
export * from './http.ts';
export * from './mastodon/index.ts';
export * from './world.ts';
export * from './x/index.ts';
