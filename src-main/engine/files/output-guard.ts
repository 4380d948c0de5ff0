import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CovsegError } from '../errors';

/**
 * The one rule every writing command follows (after git's and nnU-Net's habits): inputs are
 * read-only. No output lies in, or is, a folder the command reads from, nor inside any dataset
 * folder; no existing file is overwritten unless the user said `--force`.
 */
export interface OutputRule {
  /** The option that named the output (`--out`, `--workspace`), so the message names what to change. */
  flag: string;
  /** Folders and files the command reads; the output may be neither one of them nor inside one. */
  inputs?: readonly string[];
  /** Overwrite existing files / write into a non-empty folder (never into an input). */
  force?: boolean;
}

/**
 * The real path of `path`, also for paths that do not exist yet: the longest existing ancestor is
 * resolved (symlinks followed) and the rest appended, so `out/new` under a symlink to the dataset
 * still compares equal to the dataset.
 */
export async function realPathOf(path: string): Promise<string> {
  const absolute = resolve(path);
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return join(await realpath(current), ...rest);
    } catch {
      const parent = dirname(current);
      if (parent === current) return absolute;
      rest.unshift(basename(current));
      current = parent;
    }
  }
}

/** True when `child` is `parent` or lies inside it (both absolute, real). `..name` folders are inside. */
export function isSameOrInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function hasNifti(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((name) => /\.nii(\.gz)?$/i.test(name));
}

/**
 * What kind of dataset `dir` is, or undefined: frames/ + masks/ (PNG pairs), or NIfTI volumes in
 * images/ (imagesTr/, volumes/) beside labels/ (labelsTr/, masks/). Deliberately as strict as the
 * loaders, so a home folder with photos in `images/` is not mistaken for one.
 */
export async function datasetKindOf(dir: string): Promise<string | undefined> {
  if ((await isDirectory(join(dir, 'frames'))) && (await isDirectory(join(dir, 'masks')))) return 'frames/ and masks/';
  for (const images of ['images', 'imagesTr', 'volumes']) {
    if (!(await hasNifti(join(dir, images)))) continue;
    for (const labels of ['labels', 'labelsTr', 'masks']) if (await isDirectory(join(dir, labels))) return `${images}/ and ${labels}/`;
  }
  return undefined;
}

/** A sibling folder name to suggest instead of a refused one. */
function suggestionBeside(folder: string, suffix: string): string {
  return join(dirname(folder), `${basename(folder)}-${suffix}`);
}

/**
 * Refuses an output (folder or file) that is, or lies inside, one of `rule.inputs` or any dataset
 * folder (frames/ + masks/ or NIfTI images/ + labels/). `--force` does not lift this: it only allows
 * overwriting files outside every input.
 */
export async function refuseInsideInputs(out: string, rule: OutputRule, suffix = 'output'): Promise<void> {
  const target = await realPathOf(out);
  for (const input of rule.inputs ?? []) {
    const inputReal = await realPathOf(input);
    // A file input (one PNG slice) protects the folder it sits in, where outputs would land beside
    // it; its subfolders are left to the dataset check below (a slice in the working folder must not
    // forbid `--out ./results`).
    const fileInput = (await stat(inputReal).catch(() => undefined))?.isFile() ?? false;
    const folder = fileInput ? dirname(inputReal) : inputReal;
    if (fileInput ? target === folder || target === inputReal : isSameOrInside(target, folder)) {
      throw new CovsegError('unsafe-output', `${rule.flag} ${out} ${target === folder ? 'is' : 'lies inside'} the input ${folder}; covseg never writes into its inputs`, {
        file: target,
        fix: `choose a path outside ${folder}, e.g. ${rule.flag} ${suggestionBeside(folder, suffix)}`,
      });
    }
  }
  // Walk up from the output's parent: a dataset folder above it means the output would sit inside
  // someone's data, even when that dataset is not this command's input.
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    const kind = await datasetKindOf(dir);
    if (kind) {
      throw new CovsegError('unsafe-output', `${rule.flag} ${out} lies inside the dataset folder ${dir} (it has ${kind}); covseg never writes into a dataset`, {
        file: target,
        fix: `choose a path outside ${dir}, e.g. ${rule.flag} ${suggestionBeside(dir, suffix)}`,
      });
    }
    if (dirname(dir) === dir) break;
  }
}

/** Refuses an output folder path that is an existing file (a clear message instead of ENOTDIR later). */
export async function refuseFileAsFolder(out: string, rule: Pick<OutputRule, 'flag'>): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (info && !info.isDirectory()) {
    throw new CovsegError('unsafe-output', `${rule.flag} ${out} is a file, but a folder is expected`, {
      file: resolve(out),
      fix: `give a folder path (it is created when missing), e.g. ${rule.flag} ${suggestionBeside(resolve(out), 'out')}`,
    });
  }
}

/**
 * Guards an output folder into which a command writes `files` (paths relative to it, known before
 * the first write): not an input, not inside a dataset, not a file, and none of `files` may exist
 * unless `--force`. Nothing is written when this throws.
 */
export async function guardOutputFolder(out: string, files: readonly string[], rule: OutputRule, suffix?: string): Promise<void> {
  await refuseFileAsFolder(out, rule);
  await refuseInsideInputs(out, rule, suffix);
  if (rule.force) return;
  const existing: string[] = [];
  for (const name of files) if (await stat(join(out, name)).catch(() => undefined)) existing.push(name);
  if (existing.length > 0) {
    throw new CovsegError('unsafe-output', `${rule.flag} ${out} already holds ${existing.length} file(s) this command would overwrite (e.g. ${existing[0]})`, {
      file: resolve(out, existing[0]!),
      fix: `choose another ${rule.flag}, move those files away, or add --force to overwrite them`,
    });
  }
}

/**
 * Guards a folder the command fills as a whole (a sample, augmented pairs): it must be new or
 * empty unless `--force`, besides the rules of {@link refuseInsideInputs}.
 */
export async function guardEmptyFolder(out: string, rule: OutputRule, suffix?: string): Promise<void> {
  await refuseFileAsFolder(out, rule);
  await refuseInsideInputs(out, rule, suffix);
  if (rule.force) return;
  const names = await readdir(out).catch(() => [] as string[]);
  if (names.length > 0) {
    const kind = await datasetKindOf(out);
    throw new CovsegError('unsafe-output', `${rule.flag} ${out} is not empty${kind ? ` (it is a dataset: ${kind})` : ''}; it holds ${names.length} entr${names.length === 1 ? 'y' : 'ies'}, e.g. ${names.sort()[0]}`, {
      file: resolve(out),
      fix: `choose a new or empty folder, or add --force to write into it (files with the same names are overwritten)`,
    });
  }
}

/**
 * Guards a single output file: not a folder, not inside an input or dataset, and not an existing
 * file with other content unless `--force` (rewriting identical bytes changes nothing, so it is allowed).
 */
export async function guardOutputFile(file: string, content: string | Uint8Array, rule: OutputRule, suffix?: string): Promise<void> {
  await refuseInsideInputs(file, rule, suffix);
  const info = await stat(file).catch(() => undefined);
  if (!info) return;
  if (info.isDirectory()) {
    throw new CovsegError('unsafe-output', `${rule.flag} ${file} is a folder, but a file is expected`, { file: resolve(file), fix: `give a file path, e.g. ${rule.flag} ${join(file, 'split.json')}` });
  }
  if (rule.force) return;
  const existing = await readFile(file);
  if (existing.equals(typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength))) return;
  throw new CovsegError('unsafe-output', `${rule.flag} ${file} already exists with other content`, {
    file: resolve(file),
    fix: `choose another ${rule.flag}, or add --force to overwrite it`,
  });
}
