export * from './bluesky-connector.ts';
export { decodeStreamCursor, encodeStreamCursor } from './bluesky-stream.ts';
