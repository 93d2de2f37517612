export * from './config.ts';
export * from './normalize.ts';
export * from './post.ts';
export type * from './query-ast.ts';
