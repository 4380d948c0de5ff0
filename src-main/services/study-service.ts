import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isRunId, type StudyPredictionResult, type StudyProgress } from '../../src-shared/contract';
import { cachedNiftiReader } from '../engine/datasets/nifti-volume';
import { CovsegError } from '../engine/errors';
import { readRun } from '../engine/runs/read-run';
import type { VolumePrediction } from '../engine/studies/predict-volume';
import type { DatasetService } from './dataset-service';
import { followLines, type FollowedFile } from './follow-lines';
import { nodeProcessLauncher, type ProcessLauncher } from './process-launcher';

export interface StudyServiceOptions {
  /** Where each prediction gets its folder (label volume, burden report, progress, log): in the workspace, never in a dataset. */
  studiesDir: string;
  runsDir: string;
  datasets: DatasetService;
  emit: (progress: StudyProgress) => void;
  /** How `covseg predict` is started (default: a detached Node child process, as trainings). */
  launcher?: ProcessLauncher;
}

interface Job {
  jobId: string;
  runId: string;
  datasetId: string;
  study: string;
  output: string;
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  pid?: number;
  tail?: FollowedFile;
  /** The progress lines handled so far, in order (handling one reads the report file). */
  lines: Promise<void>;
  result?: StudyPredictionResult;
}

/** `NAME` of a slice id `NAME:z042` (NIfTI and DICOM datasets name slices so). */
const studyOf = (sliceId: string) => sliceId.replace(/:z\d+$/, '');

/**
 * Whole-study predictions for the app: each runs `covseg predict --out labels.nii.gz` in its own
 * process (the work is long and CPU-bound, as training is), followed through its progress file;
 * the finished label volume then serves the slice browser's prediction overlay.
 */
export class StudyService {
  private readonly jobs = new Map<string, Job>();
  private readonly volumes = cachedNiftiReader(2);
  private readonly launcher: ProcessLauncher;

  constructor(private readonly options: StudyServiceOptions) {
    this.launcher = options.launcher ?? nodeProcessLauncher;
  }

  async predict(request: { datasetId: string; sliceId: string; runId: string; engine: 'auto' | 'onnx' | 'tfjs' }): Promise<{ jobId: string; study: string; slices: number }> {
    const { dataset } = this.options.datasets.entry(request.datasetId);
    const ref = this.options.datasets.ref(request.datasetId, request.sliceId);
    if (ref.source.kind === 'png') {
      throw new CovsegError('unsupported', 'a PNG dataset holds single slices, not studies: whole-study prediction needs a NIfTI or DICOM dataset', {
        file: request.datasetId,
        fix: 'open a dataset of NIfTI volumes or DICOM series, or predict the slices with `covseg predict --input DIR --out DIR`',
      });
    }
    if (!isRunId(request.runId)) throw new CovsegError('bad-parameter', `invalid run id "${request.runId}"`);
    const runDir = join(this.options.runsDir, request.runId);
    await readRun(runDir);
    const study = studyOf(ref.id);
    const slices = dataset.slices.filter((s) => studyOf(s.id) === study).length;
    // A DICOM slice's folder holds its series (the dataset found it there).
    const input = ref.source.kind === 'nifti' ? ref.source.image : dirname(ref.source.image);
    const jobId = `${study.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}-${request.runId.slice(0, 80)}-${Date.now().toString(36)}`;
    const dir = join(this.options.studiesDir, jobId);
    await mkdir(dir, { recursive: true });
    const job: Job = { jobId, runId: request.runId, datasetId: request.datasetId, study, output: join(dir, 'labels.nii.gz'), state: 'running', lines: Promise.resolve() };
    this.jobs.set(jobId, job);
    const progressFile = join(dir, 'progress.jsonl');
    const logFile = join(dir, 'predict.log');
    job.tail = followLines(progressFile, 0, (line) => {
      job.lines = job.lines.then(() => this.onLine(job, line)).catch(() => undefined);
    });
    const launched = await this.launcher(['predict', '--run', runDir, '--input', input, '--out', job.output, '--engine', request.engine, '--progress-file', progressFile], { logFile });
    job.pid = launched.pid;
    void launched.exited.then(async ({ code }) => {
      await job.tail?.flush();
      // The end line may still be being handled (it reads the report): let it finish first.
      await job.lines;
      job.tail?.stop();
      if (job.state !== 'running') return;
      // Ended without its end line (killed, or failed before predicting): the log says why.
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (job.state !== 'running') return;
      this.finish(job, { jobId, kind: 'failed', message: log.trim().split('\n').slice(-3).join('\n') || `covseg predict exited with code ${code}` });
    });
    return { jobId, study, slices };
  }

  private async onLine(job: Job, line: string): Promise<void> {
    let message: { type?: string; done?: number; total?: number; status?: string; report?: string; message?: string };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (job.state !== 'running') return;
    if (message.type === 'progress') this.options.emit({ jobId: job.jobId, kind: 'progress', done: message.done ?? 0, total: message.total ?? 0 });
    if (message.type !== 'end') return;
    if (message.status === 'cancelled') return this.finish(job, { jobId: job.jobId, kind: 'cancelled' });
    if (message.status !== 'completed' || !message.report) return this.finish(job, { jobId: job.jobId, kind: 'failed', message: message.message ?? 'prediction failed' });
    const report = JSON.parse(await readFile(message.report, 'utf8')) as Pick<VolumePrediction, 'output' | 'shape' | 'classes' | 'engine' | 'burden'>;
    job.result = { jobId: job.jobId, runId: job.runId, study: job.study, output: report.output, reportJson: message.report, shape: report.shape, classes: report.classes, engine: report.engine, burden: report.burden };
    this.finish(job, { jobId: job.jobId, kind: 'completed', result: job.result });
  }

  private finish(job: Job, event: Exclude<StudyProgress, { kind: 'progress' }>): void {
    job.state = event.kind;
    job.tail?.stop();
    this.options.emit(event);
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new CovsegError('not-found', `no study prediction ${jobId}`, { fix: 'start one with studies:predict' });
    return job;
  }

  cancel(jobId: string): { cancelled: boolean } {
    const job = this.job(jobId);
    if (job.state !== 'running' || !job.pid) return { cancelled: false };
    try {
      // The CLI stops after its current batch on SIGINT and writes nothing.
      process.kill(job.pid, 'SIGINT');
      return { cancelled: true };
    } catch {
      return { cancelled: false };
    }
  }

  /** One slice of a finished prediction's label volume, oriented as the dataset shows the slice (row 0 = highest j). */
  async slicePrediction(jobId: string, datasetId: string, sliceId: string): Promise<{ width: number; height: number; mask: string; classes: 'lesion' | 'ggo-consolidation' }> {
    const job = this.job(jobId);
    if (job.state !== 'completed' || !job.result) throw new CovsegError('busy', `study prediction ${jobId} is ${job.state}`, { fix: 'wait for it to complete' });
    const ref = this.options.datasets.ref(datasetId, sliceId);
    if (datasetId !== job.datasetId || studyOf(sliceId) !== job.study || ref.source.kind === 'png') {
      throw new CovsegError('bad-parameter', `slice ${sliceId} is not in the predicted study ${job.study}`);
    }
    const volume = await this.volumes(job.output);
    const [nx, ny, nz] = volume.shape;
    const k = ref.source.z;
    if (k >= nz) throw new CovsegError('bad-parameter', `slice ${sliceId} lies beyond the predicted volume (${nz} slices)`);
    const plane = new Uint8Array(nx * ny);
    for (let row = 0; row < ny; row++) {
      const from = k * nx * ny + (ny - 1 - row) * nx;
      for (let i = 0; i < nx; i++) plane[row * nx + i] = volume.values[from + i]!;
    }
    return { width: nx, height: ny, mask: Buffer.from(plane).toString('base64'), classes: job.result.classes };
  }

  dispose(): void {
    for (const job of this.jobs.values()) job.tail?.stop();
  }
}
