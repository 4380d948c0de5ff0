import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { DecisionAction, OpenedPairs, PairsQualityReport } from '../../src-shared/contract/gan-gallery';
import type { GeneratedPair } from '../../src-shared/contract/gan-pairs';
import type { SlicePixels } from '../../src-shared/contract/slices';
import { openDataset } from '../engine/datasets/open-dataset';
import { openPngPairs, resizeSlice } from '../engine/datasets/png-pairs-dataset';
import type { Dataset, SliceData, SliceRef } from '../engine/datasets/types';
import { CovsegError } from '../engine/errors';
import { QUALITY_FILE } from '../engine/gan/check-pairs';
import { applyDecision, decisionOf, requireKnownIds } from '../engine/gan/curate-pairs';
import { pairsFilePath, readPairs } from '../engine/gan/pairs-file';
import { updatePairsLocked } from '../engine/gan/pairs-lock';
import type { FileAccess } from './file-access';

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function pixelsOf(slice: SliceData): SlicePixels {
  const out: SlicePixels = { id: slice.id, width: slice.width, height: slice.height, image: toBase64(slice.image), mask: toBase64(slice.mask) };
  if (slice.labels) out.labels = toBase64(slice.labels);
  return out;
}

function sourceFiles(ref: SliceRef): string[] {
  const source = ref.source;
  if (source.kind === 'png') return source.labels ? [source.frame, source.mask, source.labels] : [source.frame, source.mask];
  return [source.image, source.label];
}

/**
 * The gallery of generated pairs: opens a pairs folder through the same allowed-roots checks as
 * datasets, serves pair and nearest-real pixels, and saves decisions to pairs.jsonl (atomically,
 * under the folder lock) before answering.
 */
export class GalleryService {
  private readonly folders = new Map<string, Dataset>();
  private readonly realDatasets = new Map<string, Dataset>();

  constructor(private readonly access: FileAccess) {}

  private async rootOf(path: string): Promise<string> {
    const root = await this.access.check(path);
    if (!existsSync(pairsFilePath(root))) {
      throw new CovsegError('not-found', 'this folder has no pairs.jsonl: it is not a generated-pairs folder', {
        file: root,
        fix: 'open the --out folder of `covseg gan generate` (frames/, masks/, pairs.jsonl)',
      });
    }
    return root;
  }

  private async report(root: string): Promise<PairsQualityReport | null> {
    const file = join(root, QUALITY_FILE);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(await readFile(file, 'utf8')) as PairsQualityReport;
    } catch {
      throw new CovsegError('corrupt-file', `${file} is not valid JSON`, { file, fix: 'run `covseg gan check` again' });
    }
  }

  async open(path: string): Promise<OpenedPairs> {
    const root = await this.rootOf(path);
    await this.access.confineTree(root);
    this.folders.set(root, await openPngPairs(root));
    return { pairsId: root, path: root, pairs: await readPairs(root), report: await this.report(root) };
  }

  private async load(dataset: Dataset, id: string, size: number | undefined): Promise<SlicePixels> {
    const ref = dataset.slices.find((s) => s.id === id);
    if (!ref) throw new CovsegError('not-found', `${id} has no image and mask in ${dataset.root}`, { file: dataset.root });
    // Re-checked at every read: a link swapped after opening still cannot lead outside.
    await this.access.checkFiles(sourceFiles(ref));
    return pixelsOf(await resizeSlice(await dataset.load(ref), size));
  }

  async pair(pairsId: string, pairId: string, size?: number): Promise<SlicePixels> {
    const root = await this.rootOf(pairsId);
    const folder = this.folders.get(root) ?? (await openPngPairs(root));
    this.folders.set(root, folder);
    return this.load(folder, pairId, size);
  }

  async nearest(pairsId: string, pairId: string, size?: number): Promise<SlicePixels> {
    const root = await this.rootOf(pairsId);
    const pair = (await readPairs(root)).find((p) => p.id === pairId);
    if (!pair) throw new CovsegError('not-found', `pair ${pairId} is not in ${pairsFilePath(root)}`, { file: pairsFilePath(root) });
    const report = await this.report(root);
    if (!pair.quality?.nearestTrainId || !report) {
      throw new CovsegError('not-found', `pair ${pairId} has no nearest training image yet`, { file: root, fix: 'run `covseg gan check PAIRSDIR --data DIR` first' });
    }
    const dataRoot = await this.access.check(report.data);
    let real = this.realDatasets.get(dataRoot);
    if (!real) {
      await this.access.confineTree(dataRoot);
      real = await openDataset(dataRoot);
      this.realDatasets.set(dataRoot, real);
    }
    return this.load(real, pair.quality.nearestTrainId, size);
  }

  async decide(pairsId: string, ids: string[], action: DecisionAction, by?: string): Promise<GeneratedPair[]> {
    const root = await this.rootOf(pairsId);
    const who = by ?? userInfo().username;
    return updatePairsLocked(root, 'CovSeg gallery', (pairs) => {
      requireKnownIds(pairs, ids, pairsFilePath(root));
      return applyDecision(pairs, ids, decisionOf(action, who, new Date().toISOString()));
    });
  }
}
