import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { CovsegError } from '../errors';
import type { GrayImage } from '../imaging/gray-image';
import { readGray } from '../imaging/png-io';
import { resizeGray } from '../imaging/resize';
import { binarizeMask } from './mask-threshold';
import type { Dataset, DatasetProblem, LoadOptions, SliceData, SliceRef } from './types';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp']);

/**
 * Image files of a folder by stem. Names that are not valid UTF-8 cannot be opened by the string
 * path Node gives back for them (it decodes them lossily), so they are reported, not listed.
 */
async function listImages(dir: string, problems: DatasetProblem[]): Promise<Map<string, string>> {
  const byStem = new Map<string, string>();
  let raw: Buffer[];
  try {
    raw = await readdir(dir, { encoding: 'buffer' });
  } catch {
    return byStem;
  }
  const names: string[] = [];
  for (const bytes of raw) {
    const name = bytes.toString('utf8');
    if (Buffer.from(name, 'utf8').equals(bytes)) {
      names.push(name);
      continue;
    }
    if (!IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) continue;
    problems.push({
      severity: 'error',
      code: 'bad-file-name',
      file: join(dir, name),
      message: `file name is not valid UTF-8 (bytes ${bytes.toString('hex')}), so it cannot be read; shown with \uFFFD for the bad bytes`,
      fix: `rename it to a UTF-8 name (e.g. \`convmv -f latin1 -t utf8 --notest ${dir}\`), together with its pair`,
    });
  }
  for (const name of names.sort()) {
    const ext = extname(name).toLowerCase();
    if (!IMAGE_EXTENSIONS.has(ext)) continue;
    byStem.set(basename(name, extname(name)), join(dir, name));
  }
  return byStem;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** True when `root` has the Kaggle layout (`frames/` and `masks/`). */
export async function looksLikePngPairs(root: string): Promise<boolean> {
  return (await isDirectory(join(root, 'frames'))) && (await isDirectory(join(root, 'masks')));
}

/**
 * Opens the layout of the public "COVID-19 CT scan lesion segmentation dataset":
 * `ROOT/frames/NAME.png` with `ROOT/masks/NAME.png` (same name; binary, > 127 is lesion) and optional
 * `ROOT/labels/NAME.png` class maps (0 background, 1 ground-glass, 2 consolidation). Any image size.
 */
export async function openPngPairs(root: string): Promise<Dataset> {
  if (!(await isDirectory(join(root, 'frames'))) || !(await isDirectory(join(root, 'masks')))) {
    throw new CovsegError('bad-layout', 'not a frames/masks dataset: expected the folders frames/ and masks/', {
      file: root,
      fix: 'point at the folder that contains frames/ and masks/ (each NAME.png in frames/ needs masks/NAME.png)',
    });
  }
  const listingProblems: DatasetProblem[] = [];
  const frames = await listImages(join(root, 'frames'), listingProblems);
  const masks = await listImages(join(root, 'masks'), listingProblems);
  const labels = await listImages(join(root, 'labels'), listingProblems);
  const slices: SliceRef[] = [];

  for (const [stem, frame] of frames) {
    const mask = masks.get(stem);
    if (!mask) {
      listingProblems.push({
        severity: 'error',
        code: 'frame-without-mask',
        file: frame,
        message: `frame ${stem} has no mask`,
        fix: `add masks/${basename(frame)} or remove the frame`,
      });
      continue;
    }
    const labelFile = labels.get(stem);
    slices.push({ id: stem, source: labelFile ? { kind: 'png', frame, mask, labels: labelFile } : { kind: 'png', frame, mask } });
  }
  for (const [stem, mask] of masks) {
    if (frames.has(stem)) continue;
    listingProblems.push({
      severity: 'error',
      code: 'mask-without-frame',
      file: mask,
      message: `mask ${stem} has no frame`,
      fix: `add frames/${basename(mask)} or remove the mask`,
    });
  }
  for (const [stem, labelFile] of labels) {
    if (frames.has(stem)) continue;
    listingProblems.push({
      severity: 'warning',
      code: 'labels-without-frame',
      file: labelFile,
      message: `class map ${stem} has no frame and is ignored`,
      fix: 'remove it or add the matching frame and mask',
    });
  }

  async function decode(ref: SliceRef): Promise<{ frame: GrayImage; mask: GrayImage; labels?: GrayImage }> {
    if (ref.source.kind !== 'png') throw new CovsegError('internal', `slice ${ref.id} is not from a PNG dataset`);
    const [frame, mask, labelImage] = await Promise.all([
      readGray(ref.source.frame),
      readGray(ref.source.mask),
      ref.source.labels ? readGray(ref.source.labels) : Promise.resolve(undefined),
    ]);
    return labelImage ? { frame, mask, labels: labelImage } : { frame, mask };
  }

  function sizeProblem(ref: SliceRef, frame: GrayImage, other: GrayImage, file: string, what: string): DatasetProblem | undefined {
    if (frame.width === other.width && frame.height === other.height) return undefined;
    return {
      severity: 'error',
      code: 'size-mismatch',
      file,
      message: `${what} of ${ref.id} is ${other.width}x${other.height} but its frame is ${frame.width}x${frame.height}`,
      fix: `re-export the ${what} at the frame's size ${frame.width}x${frame.height}`,
    };
  }

  async function inspect(ref: SliceRef): Promise<{ slice?: SliceData; problems: DatasetProblem[] }> {
    if (ref.source.kind !== 'png') throw new CovsegError('internal', `slice ${ref.id} is not from a PNG dataset`);
    const source = ref.source;
    const problems: DatasetProblem[] = [];
    let decoded: Awaited<ReturnType<typeof decode>>;
    try {
      decoded = await decode(ref);
    } catch (error) {
      if (error instanceof CovsegError) {
        problems.push({
          severity: 'error',
          code: error.code === 'too-large' ? 'image-too-large' : 'corrupt-file',
          file: error.file ?? source.frame,
          message: error.message,
          fix: error.fix ?? 'replace or remove the file',
        });
        return { problems };
      }
      throw error;
    }
    const maskSize = sizeProblem(ref, decoded.frame, decoded.mask, source.mask, 'mask');
    if (maskSize) problems.push(maskSize);
    const labelSize = decoded.labels && source.labels ? sizeProblem(ref, decoded.frame, decoded.labels, source.labels, 'class map') : undefined;
    if (labelSize) problems.push(labelSize);
    if (maskSize) return { problems };

    const { mask, nonBinaryPixels } = binarizeMask(decoded.mask.data);
    if (nonBinaryPixels > 0) {
      problems.push({
        severity: 'warning',
        code: 'non-binary-mask',
        file: source.mask,
        message: `mask of ${ref.id} has ${nonBinaryPixels} pixel(s) that are neither 0 nor 255; they will be thresholded (> 127 is lesion)`,
        fix: 'save masks as 0/255 (no anti-aliasing, no JPEG) if the threshold is not what you want',
      });
    }
    const slice: SliceData = { id: ref.id, width: decoded.frame.width, height: decoded.frame.height, image: decoded.frame.data, mask };
    if (decoded.labels && !labelSize && source.labels) {
      const labelData = decoded.labels.data;
      let badValues = 0;
      let disagree = 0;
      for (let i = 0; i < labelData.length; i++) {
        const v = labelData[i]!;
        if (v > 2) badValues++;
        if ((v > 0 ? 1 : 0) !== mask[i]) disagree++;
      }
      if (badValues > 0) {
        problems.push({
          severity: 'error',
          code: 'bad-label-values',
          file: source.labels,
          message: `class map of ${ref.id} has ${badValues} pixel(s) outside {0 background, 1 ground-glass, 2 consolidation}`,
          fix: 'store class maps as 0/1/2 values (not scaled to 0-255)',
        });
      } else {
        slice.labels = labelData;
        if (disagree > 0) {
          problems.push({
            severity: 'warning',
            code: 'mask-labels-disagree',
            file: source.labels,
            message: `class map and mask of ${ref.id} disagree on ${disagree} pixel(s); the mask is used for lesion/background`,
            fix: 'regenerate the mask from the class map (mask = labels > 0)',
          });
        }
      }
    }
    return { slice, problems };
  }

  async function load(ref: SliceRef, options: LoadOptions = {}): Promise<SliceData> {
    const { slice, problems } = await inspect(ref);
    const fatal = problems.find((p) => p.severity === 'error' && p.code !== 'bad-label-values');
    if (!slice || fatal) {
      const problem = fatal ?? problems[0]!;
      const code = problem.code === 'size-mismatch' ? 'size-mismatch' : problem.code === 'image-too-large' ? 'too-large' : 'corrupt-file';
      throw new CovsegError(code, problem.message, {
        file: problem.file,
        fix: problem.fix,
      });
    }
    return resizeSlice(slice, options.size);
  }

  return { root, format: 'png-pairs', slices, listingProblems, load, inspect };
}

/** Resizes a decoded slice to `size` x `size` (bilinear image, nearest mask and labels). */
export async function resizeSlice(slice: SliceData, size: number | undefined): Promise<SliceData> {
  if (size === undefined || (slice.width === size && slice.height === size)) return slice;
  const image = await resizeGray({ width: slice.width, height: slice.height, data: slice.image }, size, size, 'bilinear');
  const mask = await resizeGray({ width: slice.width, height: slice.height, data: slice.mask }, size, size, 'nearest');
  const resized: SliceData = { id: slice.id, width: size, height: size, image: image.data, mask: mask.data };
  if (slice.labels) {
    resized.labels = (await resizeGray({ width: slice.width, height: slice.height, data: slice.labels }, size, size, 'nearest')).data;
  }
  return resized;
}
