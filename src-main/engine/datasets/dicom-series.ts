import { open, readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { mapWithLimit } from '../concurrency/map-with-limit';
import { CovsegError } from '../errors';
import { DECOMPRESS_FIX, hasDicomMagic, readDicomHeader, readDicomSlice, requireDecodable, type DicomHeader } from './dicom-file';
import type { NiftiVolume } from './nifti-volume';
import type { DatasetProblem } from './types';

/**
 * One CT series ready to read: its files in slice order and a voxel-to-world affine in the NIfTI
 * convention (RAS, mm), so a DICOM series and a NIfTI volume share one geometry everywhere.
 *
 * Voxel axes: i = DICOM column, j = DICOM row counted from the bottom (the top row of the image has
 * the highest j, as dcm2niix writes it, so slices show the usual way up), k = slice index in order of
 * ImagePositionPatient along the slice normal (row direction x column direction).
 */
export interface DicomSeries {
  /** Readable unique name from the series folder, used in slice ids (`NAME:z042`) and label file names. */
  name: string;
  uid: string;
  studyUid: string;
  patientId: string;
  modality: string;
  description: string;
  /** Folder that holds all files of the series. */
  folder: string;
  /** One file per slice present, in order along the normal. */
  files: string[];
  /** Slice index k on the grid of each file: a gap in the series leaves its k values out. */
  indices: number[];
  /** Voxel counts along i, j, k: columns, rows, slices (the grid spans gaps). */
  shape: [number, number, number];
  affine: number[][];
  /** Slice spacing along the normal in mm (median of neighbour distances). */
  sliceSpacing: number;
}

/** What `dataset check` lists per series, including series left out. */
export interface DicomSeriesInfo {
  name: string;
  uid: string;
  studyUid: string;
  modality: string;
  description: string;
  folder: string;
  slices: number;
  /** `COLUMNSxROWS`, or `mixed`. */
  size: string;
  /** Voxel spacing in mm along i, j, k, when the geometry is known. */
  spacing?: [number, number, number];
  gaps: number;
  /** Places on the slice grid with no file (gaps). */
  missing: number;
  duplicates: number;
  /** Why the series is not used, when it is not. */
  leftOut?: string;
}

export interface DicomFolderScan {
  series: DicomSeries[];
  info: DicomSeriesInfo[];
  problems: DatasetProblem[];
}

const DICOM_EXTENSION = /\.(dcm|dicom|ima)$/i;

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.') || entry.name.toUpperCase() === 'DICOMDIR') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  await walk(dir);
  return files;
}

/** True when the file is meant to be DICOM: Part 10 magic, or a DICOM file name extension. */
async function claimsDicom(file: string): Promise<boolean> {
  if (DICOM_EXTENSION.test(file)) return true;
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    return hasDicomMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** True when some file under `dir` (any depth) is a DICOM Part 10 file; stops at the first. */
export async function containsDicom(dir: string): Promise<boolean> {
  for (const file of await listFiles(dir)) if (await claimsDicom(file)) return true;
  return false;
}

function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

function dot(a: number[], b: number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

function unit(a: number[]): number[] {
  const length = Math.hypot(a[0]!, a[1]!, a[2]!) || 1;
  return a.map((v) => v / length);
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Folder shared by all files (the deepest common parent). */
function commonFolder(files: string[]): string {
  let folder = dirname(files[0]!);
  for (const file of files) {
    while (!(dirname(file) + sep).startsWith(folder + sep)) folder = dirname(folder);
  }
  return folder;
}

/**
 * The RAS affine of a series: DICOM gives LPS directions, NIfTI and CovSeg's volumes use RAS, so x and
 * y flip sign. j counts rows from the bottom, hence the origin at the last row and a negative j step.
 */
export function dicomAffine(first: DicomHeader, rows: number, sliceSpacing: number): number[][] {
  const o = first.orientation!;
  const r = unit([o[0], o[1], o[2]]);
  const c = unit([o[3], o[4], o[5]]);
  const n = unit(cross(r, c));
  const [rowSpacing, columnSpacing] = first.pixelSpacing!;
  const p = first.position!;
  const lps = [
    [columnSpacing * r[0]!, -rowSpacing * c[0]!, sliceSpacing * n[0]!, p[0] + (rows - 1) * rowSpacing * c[0]!],
    [columnSpacing * r[1]!, -rowSpacing * c[1]!, sliceSpacing * n[1]!, p[1] + (rows - 1) * rowSpacing * c[1]!],
    [columnSpacing * r[2]!, -rowSpacing * c[2]!, sliceSpacing * n[2]!, p[2] + (rows - 1) * rowSpacing * c[2]!],
  ];
  return [lps[0]!.map((v) => -v), lps[1]!.map((v) => -v), lps[2]!, [0, 0, 0, 1]];
}

interface Grouped {
  headers: DicomHeader[];
  folder: string;
}

function describeSize(headers: DicomHeader[]): string {
  const sizes = new Set(headers.map((h) => `${h.columns}x${h.rows}`));
  return sizes.size === 1 ? [...sizes][0]! : 'mixed';
}

function mostCommon<T>(values: T[], key: (v: T) => string): { key: string; others: T[] } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  return { key: top, others: values.filter((v) => key(v) !== top) };
}

/** Checks and orders one series; returns the problems found and the series when it is usable. */
function buildSeries(name: string, group: Grouped): { series?: DicomSeries; info: DicomSeriesInfo; problems: DatasetProblem[] } {
  const headers = group.headers;
  const head = headers[0]!;
  const problems: DatasetProblem[] = [];
  const info: DicomSeriesInfo = {
    name,
    uid: head.seriesUid,
    studyUid: head.studyUid,
    modality: head.modality,
    description: head.seriesDescription,
    folder: group.folder,
    slices: headers.length,
    size: describeSize(headers),
    gaps: 0,
    missing: 0,
    duplicates: 0,
  };
  const leaveOut = (code: DatasetProblem['code'], file: string, message: string, fix: string, severity: 'error' | 'warning' = 'error') => {
    info.leftOut = message;
    problems.push({ severity, code, file, message: `series ${name}: ${message}; the series is left out`, fix });
    return { info, problems };
  };
  const withoutPixels = headers.filter((h) => !h.hasPixels);
  if (withoutPixels.length === headers.length) {
    return leaveOut('dicom-not-image', head.file, `no pixel data (modality ${head.modality || 'unknown'}, e.g. a report or a structured document)`, 'nothing to do if it is not an image series', 'warning');
  }
  if (head.modality !== 'CT') {
    return leaveOut('dicom-not-ct', head.file, `modality is ${head.modality || 'missing'}, not CT; Hounsfield windows apply to CT only`, 'remove the series from the dataset folder, or check that the right series was exported', 'warning');
  }
  for (const h of headers) {
    try {
      requireDecodable(h);
    } catch (error) {
      if (!(error instanceof CovsegError)) throw error;
      return leaveOut('dicom-unsupported', h.file, error.message, error.fix ?? DECOMPRESS_FIX);
    }
  }
  const noGeometry = headers.find((h) => !h.orientation || !h.position || !h.pixelSpacing);
  if (noGeometry) {
    return leaveOut(
      'dicom-no-geometry',
      noGeometry.file,
      'ImagePositionPatient, ImageOrientationPatient or PixelSpacing is missing, so the slice order and spacing are unknown',
      'export the original CT series from the scanner or PACS, not a secondary capture or screenshot',
    );
  }
  const size = mostCommon(headers, (h) => `${h.columns}x${h.rows}`);
  if (size.others.length > 0) {
    return leaveOut(
      'dicom-mixed-sizes',
      size.others[0]!.file,
      `slices of different sizes (${size.key} for most, ${size.others[0]!.columns}x${size.others[0]!.rows} in ${size.others.length} file(s) such as this one)`,
      'split the series: files of one size belong to different reconstructions, or remove the odd files (e.g. a localizer)',
    );
  }
  const geometryKey = (h: DicomHeader) => [...h.orientation!.map((v) => v.toFixed(4)), ...h.pixelSpacing!.map((v) => v.toFixed(4))].join(',');
  const geometry = mostCommon(headers, geometryKey);
  if (geometry.others.length > 0) {
    return leaveOut(
      'dicom-mixed-geometry',
      geometry.others[0]!.file,
      `slices with different orientation or pixel spacing (${geometry.others.length} file(s) such as this one)`,
      'split the series into its reconstructions, or remove the odd files (e.g. a localizer)',
    );
  }
  const o = head.orientation!;
  const normal = unit(cross(unit([o[0], o[1], o[2]]), unit([o[3], o[4], o[5]])));
  // Sorted by position along the normal; ties by file name, so the kept duplicate is deterministic.
  const placed = headers
    .map((h) => ({ h, d: dot(h.position!, normal) }))
    .sort((a, b) => a.d - b.d || (a.h.file < b.h.file ? -1 : a.h.file > b.h.file ? 1 : 0));
  const kept = [placed[0]!];
  for (const slice of placed.slice(1)) {
    const previous = kept[kept.length - 1]!;
    if (Math.abs(slice.d - previous.d) < 0.01) {
      info.duplicates++;
      problems.push({
        severity: 'warning',
        code: 'dicom-duplicate-position',
        file: slice.h.file,
        message: `series ${name}: this slice has the same position (${slice.d.toFixed(2)} mm along the normal) as ${previous.h.file}; only the first is used`,
        fix: 'remove the duplicate file, or split the series if the two files belong to different reconstructions',
      });
      continue;
    }
    kept.push(slice);
  }
  const steps = kept.slice(1).map((s, k) => s.d - kept[k]!.d);
  const spacing = steps.length > 0 ? median(steps) : (head.sliceThickness ?? 1);
  // Slices sit on a regular grid, so a missing slice (gap, corrupt file) keeps its place: labels made on
  // the complete series still fit, and the affine stays right across the gap.
  let indices = kept.map((s) => Math.round((s.d - kept[0]!.d) / spacing));
  const regular = kept.every((s, n) => Math.abs(s.d - kept[0]!.d - indices[n]! * spacing) < 0.2 * spacing) && new Set(indices).size === indices.length;
  if (!regular) {
    indices = kept.map((_, n) => n);
    problems.push({
      severity: 'warning',
      code: 'dicom-gap',
      file: group.folder,
      message: `series ${name}: slice positions are not evenly spaced (median ${spacing.toFixed(2)} mm); slices are numbered in order and the volume's slice spacing is approximate`,
      fix: 'check that the folder holds one reconstruction only; slice-wise training and evaluation are not affected',
    });
  }
  for (let n = 1; n < kept.length; n++) {
    const missing = indices[n]! - indices[n - 1]! - 1;
    if (missing > 0) {
      info.gaps++;
      problems.push({
        severity: 'warning',
        code: 'dicom-gap',
        file: kept[n]!.h.file,
        message: `series ${name}: gap of ${steps[n - 1]!.toFixed(2)} mm before this slice (slices are ${spacing.toFixed(2)} mm apart elsewhere; ${missing} slice(s) missing after ${kept[n - 1]!.h.file}); their places on the grid (z${String(indices[n - 1]! + 1).padStart(3, '0')}${missing > 1 ? `-z${String(indices[n]! - 1).padStart(3, '0')}` : ''}) stay empty`,
        fix: 'export the complete series again, or replace the corrupt file; the other slices are used',
      });
    }
  }
  const [rowSpacing, columnSpacing] = head.pixelSpacing!;
  info.slices = kept.length;
  info.missing = indices[indices.length - 1]! + 1 - kept.length;
  info.spacing = [columnSpacing, rowSpacing, spacing];
  const series: DicomSeries = {
    name,
    uid: head.seriesUid,
    studyUid: head.studyUid,
    patientId: head.patientId,
    modality: head.modality,
    description: head.seriesDescription,
    folder: group.folder,
    files: kept.map((s) => s.h.file),
    indices,
    shape: [head.columns, head.rows, indices[indices.length - 1]! + 1],
    affine: dicomAffine(kept[0]!.h, head.rows, spacing),
    sliceSpacing: spacing,
  };
  return { series, info, problems };
}

/**
 * Finds every DICOM series under `dir` (any nesting), grouped by SeriesInstanceUID and ordered along
 * the slice normal (not by file name or InstanceNumber). Files that claim to be DICOM but do not
 * parse are reported as errors and left out; the rest of their series is still used.
 */
export async function scanDicomFolder(dir: string): Promise<DicomFolderScan> {
  const problems: DatasetProblem[] = [];
  const files = await listFiles(dir);
  const headers = await mapWithLimit(files, 4, async (file): Promise<DicomHeader | undefined> => {
    if (!(await claimsDicom(file))) return undefined;
    try {
      return await readDicomHeader(file);
    } catch (error) {
      if (!(error instanceof CovsegError)) throw error;
      problems.push({ severity: 'error', code: 'corrupt-file', file, message: `${error.message}; left out of its series`, fix: error.fix ?? 'replace or remove the file' });
      return undefined;
    }
  });
  const groups = new Map<string, Grouped>();
  for (const header of headers) {
    if (!header) continue;
    const key = header.seriesUid || `no-uid:${dirname(header.file)}`;
    const group = groups.get(key) ?? { headers: [], folder: '' };
    group.headers.push(header);
    groups.set(key, group);
  }
  for (const group of groups.values()) group.folder = commonFolder(group.headers.map((h) => h.file));
  const perFolder = new Map<string, number>();
  for (const group of groups.values()) perFolder.set(group.folder, (perFolder.get(group.folder) ?? 0) + 1);
  const used = new Set<string>();
  const series: DicomSeries[] = [];
  const info: DicomSeriesInfo[] = [];
  const ordered = [...groups.values()].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : (a.headers[0]!.seriesNumber ?? 0) - (b.headers[0]!.seriesNumber ?? 0)));
  for (const group of ordered) {
    const head = group.headers[0]!;
    let name = safeName(relative(dir, group.folder).split(sep).join('_')) || 'series';
    if (perFolder.get(group.folder)! > 1) name += `_s${head.seriesNumber ?? safeName(head.seriesUid).slice(-8)}`;
    let unique = name;
    for (let n = 2; used.has(unique); n++) unique = `${name}_${n}`;
    used.add(unique);
    const built = buildSeries(unique, group);
    problems.push(...built.problems);
    info.push(built.info);
    if (built.series) series.push(built.series);
  }
  return { series, info, problems };
}

/** HU given to the voxels of slices missing from a series. */
export const MISSING_HU = -1024;

/**
 * Reads a whole series as a volume on its grid (see {@link DicomSeries}): the same shape, affine and
 * voxel order as a NIfTI volume from {@link readNifti}, values in HU; slices missing from the series
 * hold {@link MISSING_HU}.
 */
export async function readDicomVolume(series: DicomSeries): Promise<NiftiVolume> {
  const [nx, ny, nz] = series.shape;
  // Places of missing slices hold air, the value a scanner reports outside the body.
  const values = new Float32Array(nx * ny * nz).fill(MISSING_HU);
  await mapWithLimit(series.files, 4, async (file, n) => {
    const k = series.indices[n]!;
    const { header, hu } = await readDicomSlice(file);
    if (header.columns !== nx || header.rows !== ny) {
      throw new CovsegError('size-mismatch', `slice is ${header.columns}x${header.rows}, the series ${nx}x${ny}`, { file, fix: 'the file changed since the folder was scanned; open the dataset again' });
    }
    for (let row = 0; row < ny; row++) values.set(hu.subarray(row * nx, (row + 1) * nx), k * nx * ny + (ny - 1 - row) * nx);
  });
  return { file: series.folder, shape: [nx, ny, nz], affine: series.affine.map((r) => r.slice()), values };
}
