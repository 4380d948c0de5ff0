import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followLines, type FollowedFile } from '../../../src-main/services/follow-lines';
import { tempDir } from '../../fixtures/temp-dir';

const followers: FollowedFile[] = [];
afterEach(() => followers.splice(0).forEach((f) => f.stop()));

describe('followLines', () => {
  it('waits for a file that does not exist yet, then delivers whole lines from the offset on, across split writes and characters', async () => {
    const file = join(await tempDir(), 'progress.jsonl');
    const lines: string[] = [];
    const follower = followLines(file, 0, (line) => lines.push(line));
    followers.push(follower);
    await follower.flush();
    expect(lines).toEqual([]);
    await writeFile(file, '{"a":1}\n{"b":');
    await follower.flush();
    expect(lines).toEqual(['{"a":1}']);
    // "é" is two bytes in UTF-8: written in two halves, it must still arrive whole.
    const accent = Buffer.from('"é"}\n');
    await appendFile(file, accent.subarray(0, 2));
    await appendFile(file, accent.subarray(2));
    await follower.flush();
    expect(lines).toEqual(['{"a":1}', '{"b":"é"}']);
  });

  it('skips what was there before the offset and keeps following through polling or watching', async () => {
    const file = join(await tempDir(), 'progress.jsonl');
    await writeFile(file, 'old line\n');
    const lines: string[] = [];
    followers.push(followLines(file, Buffer.byteLength('old line\n'), (line) => lines.push(line)));
    await appendFile(file, 'new line\n');
    const start = Date.now();
    while (lines.length === 0 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual(['new line']);
  });
});
