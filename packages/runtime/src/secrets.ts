/** A connection string with its password masked, for messages and logs. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// `scheme://user:password@` anywhere in a text (a driver's message may quote its connection string).
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/giu;
// `Authorization: Bot xxx` / `Bearer xxx` as a client library may print them.
const AUTH_SCHEME = /\b(Bot|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gu;

/**
 * Masks what looks like a secret inside free text (an error message, a reason): passwords in
 * connection strings and bearer/bot tokens. For values known to be secret, don't print them at all.
 */
export function redactSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@').replace(AUTH_SCHEME, '$1 [redacted]');
}

/** An error's message without secrets, for people and logs (never its stack). */
export function errorMessage(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
