import { subscribe } from 'node:diagnostics_channel';

/**
 * The HTTP status of error pages masto cannot read.
 *
 * masto 8 turns a non-2xx answer into MastoHttpError only when its body is JSON. An HTML error page
 * (a proxy's 502, a CDN's 404) makes it throw "Cannot destructure property 'error' of 'data'…" or
 * "unknown encoding" instead, and the response — with its status — is lost. Node's fetch (undici)
 * announces every response's status on the `undici:request:headers` diagnostics channel before the
 * body is read; this keeps the last failed answer per origin, so the error can name it.
 */
export interface FailedAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly method: string;
  /** Path without the query (which may hold search terms). */
  readonly path: string;
  readonly at: number;
}

const MAX_ORIGINS = 100;
// An answer older than this is not the one behind the error being described.
const FRESH_MS = 30_000;
const lastFailure = new Map<string, FailedAnswer>();
let subscribed = false;

interface HeadersMessage {
  request: { origin?: unknown; method?: unknown; path?: unknown };
  response: { statusCode?: unknown; headers?: unknown };
}

function contentTypeOf(headers: unknown): string {
  if (!Array.isArray(headers)) return '';
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === 'content-type') return String(headers[i + 1]);
  }
  return '';
}

function record(message: unknown): void {
  const { request, response } = message as HeadersMessage;
  const status = response?.statusCode;
  if (typeof status !== 'number' || status < 400 || typeof request?.origin !== 'string') return;
  const origin = request.origin.replace(/\/+$/u, '');
  lastFailure.delete(origin);
  if (lastFailure.size >= MAX_ORIGINS) lastFailure.delete(lastFailure.keys().next().value as string);
  lastFailure.set(origin, {
    status,
    contentType: contentTypeOf(response.headers).replace(/\s*;.*$/u, ''),
    method: typeof request.method === 'string' ? request.method : 'GET',
    path: typeof request.path === 'string' ? (request.path.split('?')[0] ?? '') : '',
    at: Date.now(),
  });
}

/** Starts listening (once per process); call when a connector is created. */
export function watchFailedAnswers(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:request:headers', record);
}

/** The last failed answer from `instanceUrl`'s origin within the last 30 seconds, if any. */
export function recentFailedAnswer(instanceUrl: string, now = Date.now()): FailedAnswer | undefined {
  let origin: string;
  try {
    origin = new URL(instanceUrl).origin;
  } catch {
    return undefined;
  }
  const answer = lastFailure.get(origin);
  return answer !== undefined && now - answer.at <= FRESH_MS ? answer : undefined;
}
