import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IDENTITY_ORIENTATION, orientationSchema, type Orientation } from '../../../src-shared/orientation';
import { writeJsonAtomic } from '../files/atomic-write';
import { realPathOf } from '../files/output-guard';

/**
 * How each dataset's slices are shown (rotation, flips), remembered in the workspace, never in the
 * dataset: `WORKSPACE/settings/orientation.json`, keyed by the dataset's real path, so the app, the
 * server and `covseg dataset orient` agree.
 */
export function orientationFile(workspace: string): string {
  return join(resolve(workspace), 'settings', 'orientation.json');
}

interface OrientationSettings {
  version: 1;
  datasets: Record<string, Orientation>;
}

async function readSettings(workspace: string): Promise<OrientationSettings> {
  try {
    const parsed = JSON.parse(await readFile(orientationFile(workspace), 'utf8')) as OrientationSettings;
    const datasets: Record<string, Orientation> = {};
    // A hand-edited entry that does not parse is ignored rather than breaking every dataset.
    for (const [root, o] of Object.entries(parsed.datasets ?? {})) {
      const ok = orientationSchema.safeParse(o);
      if (ok.success) datasets[root] = ok.data;
    }
    return { version: 1, datasets };
  } catch {
    return { version: 1, datasets: {} };
  }
}

/** The orientation remembered for a dataset (identity when none was set). */
export async function readDatasetOrientation(workspace: string, datasetRoot: string): Promise<Orientation> {
  const key = await realPathOf(datasetRoot);
  return (await readSettings(workspace)).datasets[key] ?? { ...IDENTITY_ORIENTATION };
}

/** Updates in this process run one after another, so two quick changes cannot lose one. */
let pending: Promise<unknown> = Promise.resolve();
const update = (task: () => Promise<void>): Promise<void> => {
  const next = pending.then(task, task);
  pending = next.catch(() => undefined);
  return next;
};

/** Remembers a dataset's orientation (atomic write; concurrent updates are serialised). */
export async function writeDatasetOrientation(workspace: string, datasetRoot: string, orientation: Orientation): Promise<void> {
  const key = await realPathOf(datasetRoot);
  await update(async () => {
    const settings = await readSettings(workspace);
    settings.datasets[key] = orientation;
    await writeJsonAtomic(orientationFile(workspace), settings);
  });
}
