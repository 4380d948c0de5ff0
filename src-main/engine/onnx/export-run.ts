import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectBackend } from '../backend/select-backend';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';
import { inferenceCopy } from '../models/registry';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { exportOnnx, ONNX_OPSET } from './export-onnx';

export interface OnnxExportResult {
  file: string;
  bytes: number;
  opset: number;
  checkpoint: 'best' | 'last';
  /** The run's input size: the model was trained on size x size slices. */
  size: number;
  threshold: number;
}

/**
 * Exports a run's checkpoint (batch norm folded) as an ONNX model file. Refuses to replace an existing
 * file unless `force`; the file is written atomically.
 */
export async function exportRunOnnx(runDir: string, out: string, options: { checkpoint?: 'best' | 'last'; force?: boolean } = {}): Promise<OnnxExportResult> {
  const file = resolve(out);
  if (existsSync(file) && !options.force) {
    throw new CovsegError('bad-parameter', 'the output file exists already', { file, fix: 'choose another --out, or add --force to replace it' });
  }
  const run = await readRun(runDir);
  const { config } = run.record;
  // Export reads weights only: the pure-JS backend is always there and exact.
  await selectBackend('cpu');
  const checkpoint = options.checkpoint ?? 'best';
  const { model: trained } = await loadCheckpoint(run.dir, checkpoint);
  const { model, release } = inferenceCopy(trained, config.model);
  try {
    const bytes = exportOnnx(model, {
      metadata: {
        'covseg.run': run.dir,
        'covseg.checkpoint': checkpoint,
        'covseg.model': JSON.stringify(config.model),
        'covseg.input': `${config.size}x${config.size} slices, 8-bit CT (lung window) divided by 255`,
        'covseg.threshold': String(config.threshold),
      },
    });
    await writeFileAtomic(file, bytes);
    return { file, bytes: bytes.byteLength, opset: ONNX_OPSET, checkpoint, size: config.size, threshold: config.threshold };
  } finally {
    release();
    trained.dispose();
  }
}
