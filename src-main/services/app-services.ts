import { join } from 'node:path';
import { covsegVersion } from '../engine/package-info';
import { StudyService } from './study-service';
import { existsSync } from 'node:fs';
import {
  COMMAND_CHANNELS,
  ERROR_CODES,
  fail,
  ok,
  requestSchema,
  type CommandChannel,
  type CommandHandlers,
  type ErrorCode,
  type EventChannel,
  type Result,
  type TrainingProgress,
  type ExperimentProgress,
  type GanProgress,
} from '../../src-shared/contract';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { readDatasetOrientation, writeDatasetOrientation } from '../engine/datasets/dataset-orientation';
import { datasetAnatomy } from '../engine/datasets/rotation-check';
import { measureDataset, measurementsCsv } from '../engine/measure/measure-dataset';
import { BUILT_IN_SAMPLE, writeSyntheticSample } from '../engine/datasets/synthetic/write-sample';
import { CovsegError } from '../engine/errors';
import { AnnotationService } from './annotation-service';
import { AugmentService } from './augment-service';
import { DatasetService } from './dataset-service';
import { ExperimentsService } from './experiments-service';
import { FileAccess } from './file-access';
import { GalleryService } from './gallery-service';
import { GanService } from './gan-service';
import type { ProcessLauncher } from './process-launcher';
import { normaliseDatasetPath } from './dataset-path';
import { listFolders } from './folder-listing';
import { RecentDatasets } from './recent-datasets';
import { RunsService } from './runs-service';
import { TrainingService } from './training-service';

export interface AppServicesOptions {
  transport: 'electron' | 'http';
  /** Where the built-in sample and runs live. */
  workspace: string;
  /** Folders datasets may be opened from, besides the sample and picked folders. */
  allowedRoots: string[];
  /** Pushes an event to every connected window or socket. */
  emit: (channel: EventChannel, payload: unknown) => void;
  /** Electron's native folder dialog; absent in server mode. */
  pickFolder?: () => Promise<string | null>;
  /** Electron's shell.openPath (resolves to an error text, empty on success); absent in server mode. */
  openPath?: (path: string) => Promise<string>;
  /** Time limit of one Augmentation Lab preview (default 20 s). */
  labTimeLimitMs?: number;
  /** Trainings at once, the rest queue (default: COVSEG_MAX_TRAININGS, else 1). */
  maxTrainings?: number;
  /** How training processes start (default: detached Node children; Electron injects utilityProcess). */
  launcher?: ProcessLauncher;
}

export interface AppServices {
  handlers: CommandHandlers;
  /** Validates the raw request, runs the handler, and returns errors as values. */
  dispatch(channel: string, request: unknown): Promise<Result<unknown>>;
  dispose(): void;
}

const VERSION = covsegVersion();

/** `COVSEG_MAX_TRAININGS`, when it is a positive whole number. */
function maxTrainingsFromEnv(): number | undefined {
  const value = Number(process.env.COVSEG_MAX_TRAININGS);
  return Number.isInteger(value) && value >= 1 ? value : undefined;
}

function toContractError(error: unknown): Result<never> {
  if (error instanceof CovsegError) {
    const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(error.code) ? (error.code as ErrorCode) : 'internal';
    return fail({ code, message: error.message, details: { ...(error.file ? { file: error.file } : {}), ...(error.fix ? { fix: error.fix } : {}) } });
  }
  return fail({ code: 'internal', message: (error as Error)?.message ?? String(error) });
}

/** Implements the whole contract on the engine. Transports (IPC, HTTP) only call `dispatch`. */
export function createAppServices(options: AppServicesOptions): AppServices {
  const samplePath = join(options.workspace, 'sample');
  const runsDir = join(options.workspace, 'runs');
  const access = new FileAccess([...options.allowedRoots, samplePath, runsDir]);
  const datasets: DatasetService = new DatasetService(
    access,
    (progress) => options.emit('datasets:progress', progress),
    (root) => readDatasetOrientation(options.workspace, root),
    // The annotation service (made below, it needs the datasets) owns the lung-correction stores.
    async (root: string, sliceId: string): Promise<Uint8Array | undefined> => (await annotations.lungCorrections(root)).corrected(sliceId),
  );
  const training = new TrainingService({
    runsDir,
    jobsDir: join(options.workspace, 'jobs'),
    emit: (progress: TrainingProgress) => options.emit('training:progress', progress),
    maxConcurrent: options.maxTrainings ?? maxTrainingsFromEnv(),
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
  const experiments = new ExperimentsService({
    experimentsDir: join(options.workspace, 'experiments'),
    emit: (progress: ExperimentProgress) => options.emit('experiments:progress', progress),
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
  const gans = new GanService({
    gansDir: join(options.workspace, 'gans'),
    splitsDir: join(options.workspace, 'splits'),
    jobsDir: join(options.workspace, 'jobs'),
    emit: (progress: GanProgress) => options.emit('gan:progress', progress),
    checkReadable: (path) => access.check(path),
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
  const runs = new RunsService(runsDir, datasets, (runId) => training.isActive(runId), { hasJob: (runId) => training.hasJob(runId), ...(options.openPath ? { openPath: options.openPath } : {}) });
  const studies = new StudyService({
    studiesDir: join(options.workspace, 'studies'),
    runsDir,
    datasets,
    emit: (progress) => options.emit('studies:progress', progress),
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
  const gallery = new GalleryService(access);
  const annotations: AnnotationService = new AnnotationService(options.workspace, datasets, runs, access);
  const recent = new RecentDatasets(join(options.workspace, 'settings', 'recent-datasets.json'));
  /** Opens a folder and puts it first in the recent list. */
  async function openAndRemember(path: string) {
    const opened = await datasets.openFolder(path);
    await recent.add({ path: opened.id, format: opened.report.format, slices: opened.report.validSlices, openedAt: new Date().toISOString() });
    return opened;
  }
  const augment = new AugmentService(datasets, options.labTimeLimitMs === undefined ? {} : { timeLimitMs: options.labTimeLimitMs });

  const handlers: CommandHandlers = {
    'system:info': async () => {
      const info = await selectBackend();
      const adapter = info.adapter ? { vendor: info.adapter.vendor, architecture: info.adapter.architecture, description: info.adapter.description, software: info.adapter.software } : undefined;
      return {
        version: VERSION,
        transport: options.transport,
        backend: describeBackend(info),
        compute: { name: info.name, package: info.package, version: info.version, gpu: info.gpu, ...(adapter ? { adapter } : {}) },
        allowedRoots: options.allowedRoots,
        samplePath,
      };
    },
    'datasets:open': async ({ path: raw }) => {
      const path = normaliseDatasetPath(raw);
      // In the desktop app a folder picked in the dialog once stays openable from the recent list.
      if (options.transport === 'electron' && (await recent.includes(path))) access.grant(path);
      return openAndRemember(path);
    },
    'datasets:recent': async () => recent.list(),
    'datasets:browse': async ({ path }) => listFolders(access, options.allowedRoots.length > 0 ? options.allowedRoots : [samplePath], path === undefined ? undefined : normaliseDatasetPath(path)),
    'datasets:pickFolder': async () => {
      if (!options.pickFolder) return null;
      const picked = await options.pickFolder();
      if (picked) access.grant(picked);
      return picked;
    },
    'datasets:openSample': async () => {
      if (!existsSync(join(samplePath, 'sample.json'))) await writeSyntheticSample(samplePath, BUILT_IN_SAMPLE);
      return openAndRemember(samplePath);
    },
    'datasets:measure': async ({ datasetId, runId }) => {
      const predict = runId ? await runs.predictor(runId) : undefined;
      const { dataset } = datasets.entry(datasetId);
      const orientation = await readDatasetOrientation(options.workspace, dataset.root);
      const corrections = await annotations.lungCorrections(dataset.root);
      return measurementsCsv(await measureDataset(dataset, { orientation, correctedLung: (sliceId) => corrections.corrected(sliceId), ...(predict ? { predict } : {}) }));
    },
    'datasets:getOrientation': async ({ datasetId }) => readDatasetOrientation(options.workspace, datasets.entry(datasetId).dataset.root),
    'datasets:setOrientation': async ({ datasetId, orientation }) => {
      await writeDatasetOrientation(options.workspace, datasets.entry(datasetId).dataset.root, orientation);
      return orientation;
    },
    'datasets:report': async ({ datasetId }) => datasets.report(datasetId),
    'datasets:suggestOrientation': async ({ datasetId }) => {
      // PNG datasets were sampled when opened (the same valid slices); others are sampled now.
      const entry = datasets.entry(datasetId);
      const { vote } = entry.anatomy ?? (await datasetAnatomy(entry.dataset, new Set(datasets.list(datasetId).map((s) => s.id))));
      return { orientation: vote.orientation ?? null, votes: vote.votes, sampled: vote.sampled, abstained: vote.abstained };
    },
    'slices:list': async ({ datasetId }) => datasets.list(datasetId),
    'slices:get': async ({ datasetId, sliceId }) => datasets.pixels(datasetId, sliceId),
    'slices:thumbnail': async ({ datasetId, sliceId, size }) => datasets.thumbnail(datasetId, sliceId, size),
    'training:start': async (request) => {
      datasets.entry(request.datasetId);
      return training.start(request, request.datasetId);
    },
    'training:cancel': async ({ runId }) => training.cancel(runId),
    'training:resume': async (request) => training.resume(request),
    'runs:list': async () => training.withJobs(await runs.list()),
    'runs:get': async ({ runId }) => runs.get(runId),
    'runs:prediction': async ({ runId, datasetId, sliceId }) => runs.prediction(runId, datasetId, sliceId),
    'runs:sliceScores': async ({ runId, datasetId }) => runs.sliceScores(runId, datasetId),
    'runs:delete': async ({ runId }) => runs.delete(runId),
    'runs:openFolder': async ({ runId }) => runs.openFolder(runId),
    'augment:catalogue': async () => augment.catalogue(),
    'augment:preview': async (request) => augment.preview(request as Parameters<AugmentService['preview']>[0]),
    'augment:weather': async (request) => augment.weather(request),
    'studies:predict': async (request) => studies.predict(request),
    'studies:cancel': async ({ jobId }) => studies.cancel(jobId),
    'studies:slicePrediction': async ({ jobId, datasetId, sliceId }) => studies.slicePrediction(jobId, datasetId, sliceId),
    'gallery:open': async ({ path }) => gallery.open(path),
    'gallery:pair': async ({ pairsId, pairId, size }) => gallery.pair(pairsId, pairId, size),
    'gallery:nearest': async ({ pairsId, pairId, size }) => gallery.nearest(pairsId, pairId, size),
    'gallery:decide': async ({ pairsId, ids, action, by }) => gallery.decide(pairsId, ids, action, by),
    'experiments:list': async () => experiments.list(),
    'experiments:get': async ({ experimentId }) => experiments.get(experimentId),
    'experiments:start': async (request) => {
      datasets.entry(request.datasetId);
      return experiments.start(request, request.datasetId);
    },
    'experiments:cancel': async ({ experimentId }) => experiments.cancel(experimentId),
    'gan:startTraining': async (request) => gans.startTraining(request, datasets.entry(request.datasetId)),
    'gan:cancelTraining': async ({ ganId }) => gans.cancelTraining(ganId),
    'gan:listGans': async () => gans.listGans(),
    'gan:listSplits': async ({ datasetId }) => gans.listSplits(datasets.entry(datasetId)),
    'gan:sampleGrid': async ({ ganId }) => gans.sampleGrid(ganId),
    'annotations:status': async ({ datasetId }) => annotations.status(datasetId),
    'annotations:get': async ({ datasetId, sliceId }) => annotations.get(datasetId, sliceId),
    'annotations:save': async (request) => annotations.save(request),
    'annotations:revert': async ({ datasetId, sliceId, version, baseVersion }) => annotations.revert(datasetId, sliceId, version, baseVersion),
    'annotations:prediction': async ({ runId, datasetId, sliceId }) => annotations.prediction(runId, datasetId, sliceId),
    'annotations:queue': async ({ runId, datasetId, order }) => annotations.queue(runId, datasetId, order),
    'annotations:export': async ({ datasetId }) => annotations.export(datasetId),
    'annotations:lung': async ({ datasetId, sliceId }) => annotations.lung(datasetId, sliceId),
    'annotations:saveLung': async (request) => annotations.saveLung(request),
    'annotations:resetLung': async ({ datasetId, sliceId, baseVersion, tool }) => annotations.resetLung(datasetId, sliceId, baseVersion, tool),
  };

  async function dispatch(channel: string, request: unknown): Promise<Result<unknown>> {
    if (!(COMMAND_CHANNELS as string[]).includes(channel)) return fail({ code: 'unknown-command', message: `unknown command "${channel}"` });
    const parsed = requestSchema(channel as CommandChannel).safeParse(request ?? {});
    if (!parsed.success) {
      return fail({
        code: 'invalid-argument',
        message: `invalid arguments for ${channel}`,
        details: { issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`) },
      });
    }
    try {
      const handler = handlers[channel as CommandChannel] as (request: unknown) => Promise<unknown>;
      return ok(await handler(parsed.data));
    } catch (error) {
      return toContractError(error);
    }
  }

  return {
    handlers,
    dispatch,
    dispose: () => {
      training.dispose();
      experiments.dispose();
      gans.dispose();
      runs.dispose();
      studies.dispose();
      void augment.dispose();
    },
  };
}
