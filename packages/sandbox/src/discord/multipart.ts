/** A file part of a multipart message body (kept as name and size only). */
export interface UploadedFile {
  readonly field: string;
  readonly filename: string;
  readonly size: number;
  readonly contentType: string | null;
}

/**
 * Reads the JSON of a request the way Discord does: a JSON body, or for uploads a
 * multipart/form-data body whose `payload_json` part holds it (files are kept by name and size).
 * The shared HTTP server hands multipart bodies over as `{ __unparseable: text }`.
 */
export function discordBody(
  body: Record<string, unknown>,
  contentType: string | undefined,
): { json: Record<string, unknown>; files: UploadedFile[] } {
  const raw = body.__unparseable;
  if (typeof raw !== 'string' || contentType === undefined || !contentType.startsWith('multipart/form-data'))
    return { json: body, files: [] };
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/u.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (marker === undefined) return { json: body, files: [] };
  let json: Record<string, unknown> = {};
  const files: UploadedFile[] = [];
  for (const part of raw.split(`--${marker}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) continue;
    const head = part.slice(0, split);
    const content = part.slice(split + 4).replace(/\r\n$/u, '');
    const name = /name="([^"]*)"/u.exec(head)?.[1];
    const filename = /filename="([^"]*)"/u.exec(head)?.[1];
    if (name === 'payload_json') {
      try {
        const parsed: unknown = JSON.parse(content);
        if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
      } catch {
        json = { __unparseable: content };
      }
    } else if (name !== undefined && filename !== undefined) {
      files.push({
        field: name,
        filename,
        size: Buffer.byteLength(content),
        contentType: /content-type:\s*([^\r\n]+)/iu.exec(head)?.[1] ?? null,
      });
    }
  }
  return { json, files };
}
