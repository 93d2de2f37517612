/**
 * Error bodies exactly as the X API v2 sends them, so the connector is tested against X's shapes and not
 * against ours. Sources: docs.x.com "Response Codes & Errors" and bodies recorded from the live API in
 * public issue threads (see packages/connectors/src/x/fixtures/README.md).
 */

const PROBLEMS = 'https://api.x.com/2/problems';

/** A problem body: `title`, `detail`, `type`, often `status`, sometimes an `errors` list. */
export type XProblem = Readonly<Record<string, unknown>>;

/** 401 for a missing or wrong token. */
export const UNAUTHORIZED: XProblem = {
  title: 'Unauthorized',
  type: 'about:blank',
  status: 401,
  detail: 'Unauthorized',
};

/** 429 once the window's requests are spent (X's v2 body; the headers say when it resets). */
export const TOO_MANY_REQUESTS: XProblem = {
  title: 'Too Many Requests',
  detail: 'Too Many Requests',
  type: 'about:blank',
  status: 429,
};

/** 403 for an API reply to a post whose author did not mention the account (since February 2026). */
export const REPLY_NOT_ALLOWED: XProblem = {
  title: 'Forbidden',
  detail:
    'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
  type: 'about:blank',
  status: 403,
};

/** 403 for a post whose text the account already posted. */
export const DUPLICATE_CONTENT: XProblem = {
  detail: 'You are not allowed to create a Tweet with duplicate content.',
  type: 'about:blank',
  title: 'Forbidden',
  status: 403,
};

/** 403 for a reply to a post that does not exist (or was deleted). */
export const REPLY_TARGET_GONE: XProblem = {
  detail: 'You attempted to reply to a Tweet that is deleted or not visible to you.',
  type: 'about:blank',
  title: 'Forbidden',
  status: 403,
};

/** 400 naming the parameter that was wrong, as X's request validation does. */
export function invalidRequest(parameter: string, values: readonly string[], message: string): XProblem {
  return {
    errors: [{ parameters: { [parameter]: values }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEMS}/invalid-request`,
  };
}

/** A partial error inside a 200 answer: the resource asked for does not exist. */
export function resourceNotFound(resourceType: 'user' | 'tweet', parameter: string, id: string): XProblem {
  return {
    value: id,
    detail: `Could not find ${resourceType} with ${parameter}: [${id}].`,
    title: 'Not Found Error',
    resource_type: resourceType,
    parameter,
    resource_id: id,
    type: `${PROBLEMS}/resource-not-found`,
  };
}
