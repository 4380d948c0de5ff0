import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { loadModel, saveModel } from '../models/model-files';
import type { AdamState } from '../training/adam';
import { pruneCheckpoints, readJsonFile, RUN_FILES } from './run-files';

/** Where training stood when a checkpoint was saved: enough to continue exactly. */
export interface TrainerState {
  /** Epochs completed. */
  epoch: number;
  bestEpoch: number;
  bestValDice: number;
  epochsWithoutImprovement: number;
}

export interface CheckpointPointer {
  dir: string;
  epoch: number;
}

const pointerFile = (which: 'last' | 'best') => `${which}.json`;

/**
 * Saves model, optimizer and trainer state into a new folder `checkpoints/epoch-NNNN`, then points
 * `last.json` (and `best.json` when `best`) at it. The pointer is written last and atomically, so a
 * crash at any moment leaves the previous checkpoint in force.
 */
export async function saveCheckpoint(
  runDir: string,
  model: tfl.LayersModel,
  optimizer: AdamState,
  state: TrainerState,
  best: boolean,
): Promise<void> {
  const name = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const dir = join(runDir, RUN_FILES.checkpoints, name);
  const checkpoints = join(runDir, RUN_FILES.checkpoints);
  const pointer: CheckpointPointer = { dir: name, epoch: state.epoch };
  const previous = await readPointer(runDir, 'last');
  try {
    await saveModel(model, dir);
    const sizes = optimizer.m.map((m) => m.length);
    const moments = new Float32Array(sizes.reduce((n, s) => n + 2 * s, 0));
    let offset = 0;
    for (let k = 0; k < sizes.length; k++) {
      moments.set(optimizer.m[k]!, offset);
      moments.set(optimizer.v[k]!, offset + sizes[k]!);
      offset += 2 * sizes[k]!;
    }
    await writeFileAtomic(join(dir, 'optimizer.bin'), new Uint8Array(moments.buffer));
    await writeJsonAtomic(join(dir, 'trainer-state.json'), { ...state, optimizer: { kind: 'adam', step: optimizer.step, sizes } });
    if (best) await writeJsonAtomic(join(checkpoints, pointerFile('best')), pointer);
    await writeJsonAtomic(join(checkpoints, pointerFile('last')), pointer);
  } catch (error) {
    await discardPartialCheckpoint(runDir, name);
    if (error instanceof CovsegError && error.code === 'disk-full') {
      throw new CovsegError('disk-full', `disk full while saving the checkpoint of epoch ${state.epoch}; the partial checkpoint was removed`, {
        file: dir,
        fix: `free space on the disk that holds ${runDir} (see \`df -h ${runDir}\`), then resume with \`covseg train --out ${runDir} --resume\`: ${previous ? `the last good checkpoint (epoch ${previous.epoch}) is untouched` : 'no epoch was saved yet, so it starts again from epoch 1'}`,
        cause: error,
      });
    }
    throw error;
  }
  const keep = new Set([name]);
  const bestPointer = await readPointer(runDir, 'best');
  if (bestPointer) keep.add(bestPointer.dir);
  await pruneCheckpoints(runDir, keep);
}

/** Removes a checkpoint folder left half-written, unless a pointer already refers to it. */
async function discardPartialCheckpoint(runDir: string, name: string): Promise<void> {
  const pointers = await Promise.all([readPointer(runDir, 'last'), readPointer(runDir, 'best')].map((p) => p.catch(() => undefined)));
  if (pointers.some((p) => p?.dir === name)) return;
  await rm(join(runDir, RUN_FILES.checkpoints, name), { recursive: true, force: true });
}

export async function readPointer(runDir: string, which: 'last' | 'best'): Promise<CheckpointPointer | undefined> {
  try {
    return await readJsonFile<CheckpointPointer>(join(runDir, RUN_FILES.checkpoints), pointerFile(which), `${which} checkpoint pointer`);
  } catch (error) {
    if (error instanceof CovsegError && /missing/.test(error.message)) return undefined;
    throw error;
  }
}

export interface LoadedCheckpoint {
  model: tfl.LayersModel;
  optimizer: AdamState;
  state: TrainerState;
}

/** Loads the `last` or `best` checkpoint of a run; a damaged one fails naming the file. */
export async function loadCheckpoint(runDir: string, which: 'last' | 'best'): Promise<LoadedCheckpoint> {
  const pointer = await readPointer(runDir, which);
  if (!pointer) {
    throw new CovsegError('bad-run', `the run has no ${which} checkpoint yet`, {
      file: join(runDir, RUN_FILES.checkpoints),
      fix: 'train at least one epoch (checkpoints are saved after each epoch)',
    });
  }
  const dir = join(runDir, RUN_FILES.checkpoints, pointer.dir);
  const model = await loadModel(dir);
  const saved = await readJsonFile<TrainerState & { optimizer: { step: number; sizes: number[] } }>(dir, 'trainer-state.json', 'trainer state');
  const file = join(dir, 'optimizer.bin');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new CovsegError('bad-run', 'optimizer state is missing', { file, fix: 'restore the checkpoint, or start a new run' });
  }
  const sizes = saved.optimizer.sizes;
  const expected = sizes.reduce((n, s) => n + 2 * s, 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new CovsegError('bad-run', `optimizer state has ${bytes.byteLength} bytes, expected ${expected}`, { file, fix: 'restore the checkpoint, or start a new run' });
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const optimizer: AdamState = { step: saved.optimizer.step, m: [], v: [] };
  let offset = 0;
  for (const size of sizes) {
    optimizer.m.push(all.slice(offset, offset + size));
    optimizer.v.push(all.slice(offset + size, offset + 2 * size));
    offset += 2 * size;
  }
  const { epoch, bestEpoch, bestValDice, epochsWithoutImprovement } = saved;
  return { model, optimizer, state: { epoch, bestEpoch, bestValDice, epochsWithoutImprovement } };
}
