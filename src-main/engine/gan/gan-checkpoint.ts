import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import type { AdamState } from '../training/adam';
import type { GanNetworks } from './gan-networks';
import { GAN_FILES } from './gan-record';
import { loadStoreArrays, storeArrays } from './network/params';

type Arrays = Map<string, { shape: number[]; data: Float32Array }>;

export interface GanTrainerState {
  /** Epochs completed. */
  epoch: number;
  /** Adam step counts (the moments are in the tensor file). */
  gSteps: number;
  dSteps: number;
}

interface Manifest {
  state: GanTrainerState;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

/**
 * Saves both networks (weights and spectral-norm state) and both Adam states into
 * checkpoints/epoch-NNNN/, then points checkpoints/last.json at it; the pointer is written last and
 * atomically, so a kill at any moment leaves the previous checkpoint in force.
 */
export async function saveGanCheckpoint(ganDir: string, nets: GanNetworks, adam: { g: AdamState; d: AdamState; gNames: string[]; dNames: string[] }, state: GanTrainerState): Promise<void> {
  const name = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const dir = join(ganDir, GAN_FILES.checkpoints, name);
  const arrays: Arrays = new Map();
  for (const [n, a] of storeArrays(nets.g.store)) arrays.set(`g:${n}`, a);
  for (const [n, a] of storeArrays(nets.d.store)) arrays.set(`d:${n}`, a);
  adam.gNames.forEach((n, k) => {
    arrays.set(`adam-g-m:${n}`, { shape: [adam.g.m[k]!.length], data: adam.g.m[k]! });
    arrays.set(`adam-g-v:${n}`, { shape: [adam.g.v[k]!.length], data: adam.g.v[k]! });
  });
  adam.dNames.forEach((n, k) => {
    arrays.set(`adam-d-m:${n}`, { shape: [adam.d.m[k]!.length], data: adam.d.m[k]! });
    arrays.set(`adam-d-v:${n}`, { shape: [adam.d.v[k]!.length], data: adam.d.v[k]! });
  });
  const total = [...arrays.values()].reduce((n, a) => n + a.data.length, 0);
  const blob = new Float32Array(total);
  const manifest: Manifest = { state, tensors: [] };
  let offset = 0;
  for (const [n, a] of arrays) {
    blob.set(a.data, offset);
    manifest.tensors.push({ name: n, shape: a.shape, offset, length: a.data.length });
    offset += a.data.length;
  }
  await writeFileAtomic(join(dir, 'tensors.bin'), new Uint8Array(blob.buffer));
  await writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  await writeJsonAtomic(join(ganDir, GAN_FILES.checkpoints, 'last.json'), { dir: name, epoch: state.epoch });
  // Older checkpoints are superseded: keep the folder small (a GAN is resumed or used from its last epoch).
  for (const entry of await readdir(join(ganDir, GAN_FILES.checkpoints))) {
    if (entry !== name && entry.startsWith('epoch-')) await rm(join(ganDir, GAN_FILES.checkpoints, entry), { recursive: true, force: true });
  }
}

export async function hasGanCheckpoint(ganDir: string): Promise<boolean> {
  return existsSync(join(ganDir, GAN_FILES.checkpoints, 'last.json'));
}

/** Loads the last checkpoint into built networks; returns the trainer state and the Adam moments by weight name. */
export async function loadGanCheckpoint(ganDir: string, nets: GanNetworks): Promise<{ state: GanTrainerState; adam: (prefix: 'g' | 'd', names: string[], steps: number) => AdamState }> {
  const pointerFile = join(ganDir, GAN_FILES.checkpoints, 'last.json');
  let dir: string;
  try {
    dir = join(ganDir, GAN_FILES.checkpoints, (JSON.parse(await readFile(pointerFile, 'utf8')) as { dir: string }).dir);
  } catch {
    throw new CovsegError('not-found', `${ganDir} has no finished epoch yet (no checkpoint)`, { file: pointerFile, fix: 'train the GAN for at least one epoch (`covseg gan train ... --resume`)' });
  }
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const bytes = await readFile(join(dir, 'tensors.bin'));
  const blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const arrays: Arrays = new Map(manifest.tensors.map((t) => [t.name, { shape: t.shape, data: blob.subarray(t.offset, t.offset + t.length) }]));
  const part = (prefix: string): Arrays => new Map([...arrays].filter(([n]) => n.startsWith(prefix)).map(([n, a]) => [n.slice(prefix.length), a]));
  try {
    loadStoreArrays(nets.g.store, part('g:'), 'generator');
    loadStoreArrays(nets.d.store, part('d:'), 'discriminator');
  } catch (error) {
    throw new CovsegError('corrupt-file', `${(error as Error).message}: the checkpoint does not fit this GAN`, { file: dir, fix: 'train the GAN again into a new folder' });
  }
  return {
    state: manifest.state,
    adam: (prefix, names, steps) => {
      const m = names.map((n) => arrays.get(`adam-${prefix}-m:${n}`)?.data.slice() ?? new Float32Array(0));
      const v = names.map((n) => arrays.get(`adam-${prefix}-v:${n}`)?.data.slice() ?? new Float32Array(0));
      return { step: steps, m, v };
    },
  };
}
