import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** How often the file is checked when change notifications are missing (network file systems, some containers). */
const POLL_MS = 500;

/** A followed file; `stop` ends the watching, `flush` reads what was appended up to now. */
export interface FollowedFile {
  flush(): Promise<void>;
  stop(): void;
}

/**
 * Follows a growing file of text lines (like `tail -f`) from byte `offset`: `fs.watch` for prompt
 * updates plus polling as a fallback, a partial last line kept until its newline arrives, and a
 * file that does not exist yet simply waited for.
 */
export function followLines(file: string, offset: number, onLine: (line: string) => void): FollowedFile {
  let position = offset;
  let partial = '';
  // A character split across two reads is completed by the next one.
  const decoder = new StringDecoder('utf8');
  let stopped = false;
  let reading: Promise<void> = Promise.resolve();
  let watcher: FSWatcher | undefined;

  async function readNew(): Promise<void> {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch {
      return;
    }
    try {
      for (;;) {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line.trim() && !stopped) onLine(line);
      }
    } finally {
      await handle.close();
    }
    if (!watcher && !stopped) {
      try {
        watcher = watch(file, () => void read());
        watcher.on('error', () => watcher?.close());
      } catch {
        // Polling alone still follows the file.
      }
    }
  }

  const read = (): Promise<void> => (reading = reading.then(readNew, readNew));
  const timer = setInterval(() => void read(), POLL_MS);
  timer.unref();
  void read();
  return {
    flush: read,
    stop: () => {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
