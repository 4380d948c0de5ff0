import { z } from 'zod';
import { command } from './define';
import { transformStepProblems } from './transform-parameters';

// Every parameter is bounded (transform-parameters.ts): one oversized value must not tie up the back end.
const step = z
  .object({ type: z.string().min(1).max(64) })
  .catchall(z.union([z.number(), z.string(), z.boolean(), z.array(z.number()).max(100)]))
  .superRefine((value, context) => {
    for (const message of transformStepProblems(value)) context.addIssue({ code: 'custom', message });
  });

export interface AugmentPreview {
  width: number;
  height: number;
  /** base64 bytes: image 0..255, mask 0..255 (soft mixup gives greys). */
  image: string;
  mask: string;
  /**
   * When the slice and the partners it may be mixed with have class labels: one base64 plane per
   * foreground class (ground-glass, then consolidation), each pixel that class's share of the target
   * times 255 — 0 or 255 for hard masks, in between after soft mixup.
   */
  classes?: string[];
}

export interface WeatheringSeries {
  label: string;
  generations: { generation: number; quality: number; psnr: number; ssim: number }[];
  /** base64 bytes of every generation's image, generation 0 (the original) first. */
  images?: string[];
}

export const augmentCommands = {
  /** Transform names and preset recipes. */
  catalogue: command<z.ZodObject<Record<string, never>>, { transforms: string[]; recipes: string[] }>(z.object({})),
  /** One slice through one transform (fired with probability 1) or a preset recipe, at 256 px. */
  preview: command<z.ZodObject<{ datasetId: z.ZodString; sliceId: z.ZodString; seed: z.ZodNumber; step: z.ZodOptional<typeof step>; recipe: z.ZodOptional<z.ZodString> }>, AugmentPreview>(
    z.object({ datasetId: z.string().min(1).max(4096), sliceId: z.string().min(1).max(1024), seed: z.number().int().min(0).max(2 ** 31), step: step.optional(), recipe: z.string().max(256).optional() }),
  ),
  /** Digital weathering of one slice under one or two schedules, with PSNR/SSIM per generation. */
  weather: command<
    z.ZodObject<{ datasetId: z.ZodString; sliceId: z.ZodString; schedules: z.ZodArray<z.ZodObject<{ qualities: z.ZodArray<z.ZodNumber>; jitter: z.ZodEnum<{ none: 'none'; shift: 'shift'; rescale: 'rescale' }> }>> }>,
    WeatheringSeries[]
  >(
    z.object({
      datasetId: z.string().min(1).max(4096),
      sliceId: z.string().min(1).max(1024),
      schedules: z.array(z.object({ qualities: z.array(z.number().int().min(1).max(100)).min(1).max(60), jitter: z.enum(['none', 'shift', 'rescale']) })).min(1).max(2),
    }),
  ),
};
export const augmentEvents = {};
