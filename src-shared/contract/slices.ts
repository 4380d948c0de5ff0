import { z } from 'zod';
import { command } from './define';

export interface SliceListItem {
  id: string;
  width: number;
  height: number;
  /** Lesion pixels / all pixels. */
  lesionFraction: number;
  hasLabels: boolean;
}

/** Pixels of one slice, base64 of row-major bytes: image 0..255, mask 0/1, labels 0/1/2. */
export interface SlicePixels {
  id: string;
  width: number;
  height: number;
  image: string;
  mask: string;
  labels?: string;
  /** NIfTI sources: HU values (base64 of Float32 little endian) for window/level in the viewer. */
  hu?: string;
  /** Volumes: the anatomical direction at each edge of the picture as stored (from the affine). */
  edges?: { top: string; bottom: string; left: string; right: string };
  /** Volumes: pixel size in mm, [column, row, slice distance]. */
  spacing?: [number, number, number];
  /** The lungs computed from the CT (engine/imaging/lung-mask.ts), base64 bytes: 0, 1 image-left lung, 2 image-right lung. */
  lung?: string;
  /** Whether `lung` is the computed mask or a person's correction saved in the workspace (Annotate view, target "Lung"). */
  lungSource?: 'computed' | 'corrected';
}

const datasetId = z.string().min(1).max(4096);
const sliceId = z.string().min(1).max(1024);

export const slicesCommands = {
  list: command<z.ZodObject<{ datasetId: typeof datasetId }>, SliceListItem[]>(z.object({ datasetId })),
  get: command<z.ZodObject<{ datasetId: typeof datasetId; sliceId: typeof sliceId }>, SlicePixels>(z.object({ datasetId, sliceId })),
  /** A small grayscale PNG (data URL) for the thumbnail strip. */
  thumbnail: command<z.ZodObject<{ datasetId: typeof datasetId; sliceId: typeof sliceId; size: z.ZodNumber }>, string>(
    z.object({ datasetId, sliceId, size: z.number().int().min(16).max(256) }),
  ),
};
export const slicesEvents = {};
