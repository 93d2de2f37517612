import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseEncryptionKey } from './crypto.ts';

/**
 * The credentials key: KIKIMIMI_ENCRYPTION_KEY when set; otherwise a key generated once and kept in
 * `<dataDir>/encryption.key` (mode 0600), shared by every process on the machine (or volume). The
 * generated key is for first runs and the demo world; production sets the variable (and backs it up).
 */
export async function resolveEncryptionKey(options: {
  fromEnv: string | undefined;
  dataDir: string;
  onGenerated?: (path: string) => void;
}): Promise<string> {
  if (options.fromEnv !== undefined && options.fromEnv !== '') {
    parseEncryptionKey(options.fromEnv, 'KIKIMIMI_ENCRYPTION_KEY'); // fails with a clear message
    return options.fromEnv;
  }
  const dir = resolve(options.dataDir);
  const path = join(dir, 'encryption.key');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  try {
    // `wx`: when two processes start at once, the first one's key wins and the other reads it.
    await writeFile(path, `${key}\n`, { flag: 'wx', mode: 0o600 });
    options.onGenerated?.(path);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(path, 'utf8')).trim();
  }
}
