import { readFile } from 'node:fs/promises';
import type { RecentDataset } from '../../src-shared/contract';
import { writeJsonAtomic } from '../engine/files/atomic-write';

/** How many datasets the list keeps. */
export const RECENT_LIMIT = 10;

interface Settings {
  recentDatasets?: RecentDataset[];
  [other: string]: unknown;
}

/**
 * Datasets opened before, newest first, kept in the workspace's `settings/recent-datasets.json`. Server-side rather
 * than in the page's localStorage because the desktop window and every browser share the workspace,
 * while localStorage is per origin: `covseg serve` on another port (or `--port 0`) would start empty.
 * Writes are serialised and atomic; other keys of the file are kept.
 */
export class RecentDatasets {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly settingsFile: string) {}

  private async read(): Promise<Settings> {
    try {
      const parsed = JSON.parse(await readFile(this.settingsFile, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Settings) : {};
    } catch {
      // No settings yet, or a damaged file: start afresh (the next write replaces it atomically).
      return {};
    }
  }

  async list(): Promise<RecentDataset[]> {
    await this.writing;
    const recent = (await this.read()).recentDatasets;
    return Array.isArray(recent) ? recent.filter((r) => typeof r?.path === 'string').slice(0, RECENT_LIMIT) : [];
  }

  async includes(path: string): Promise<boolean> {
    return (await this.list()).some((r) => r.path === path);
  }

  /** Puts a dataset first (once). A failed write is not the open's failure: the list is a convenience. */
  add(entry: RecentDataset): Promise<void> {
    this.writing = this.writing.then(async () => {
      const settings = await this.read();
      const others = (Array.isArray(settings.recentDatasets) ? settings.recentDatasets : []).filter((r) => r.path !== entry.path);
      await writeJsonAtomic(this.settingsFile, { ...settings, recentDatasets: [entry, ...others].slice(0, RECENT_LIMIT) });
    }).catch(() => undefined);
    return this.writing;
  }
}
