import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diskFullError, isDiskFull } from './disk-full';

/**
 * Writes a file so that readers see either the old content or the new, never a torn write: the data
 * goes to a temporary file in the same folder, is flushed to disk, then renamed over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    // The target keeps its old content; only the partial temporary file goes.
    await rm(temp, { force: true });
    if (isDiskFull(error)) throw diskFullError(file, error);
    throw error;
  }
}

/** The bytes {@link writeJsonAtomic} writes: two-space indentation and a final newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** JSON with two-space indentation and a final newline, written atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, jsonText(value));
}
