import type { ExperimentSpec, TrainOptionName } from './experiment-file';
import { TRAIN_OPTION_FLAGS } from './experiment-file';

/** One point of the grid: one ordinary run folder, EXPDIR/runs/<id>. */
export interface ExperimentCell {
  /** Folder-safe and unique within the experiment, e.g. `origin__unet__bce__s1`. */
  id: string;
  recipe: string;
  model: string;
  loss: string;
  seed: number;
  classes: string;
  /** Values of the extra axes (e.g. epochs) for this cell. */
  options: Partial<Record<TrainOptionName, number | string>>;
}

function folderSafe(value: string | number): string {
  return String(value).replace(/[^\w.+-]/g, '_');
}

/** Cartesian product of the axes, in a stable order (recipes outermost, seeds innermost). */
export function expandGrid(spec: ExperimentSpec): ExperimentCell[] {
  const optionAxes = Object.entries(spec.axes.options) as [TrainOptionName, (number | string)[]][];
  let optionCombos: Partial<Record<TrainOptionName, number | string>>[] = [{}];
  for (const [name, values] of optionAxes) optionCombos = optionCombos.flatMap((combo) => values.map((value) => ({ ...combo, [name]: value })));
  const cells: ExperimentCell[] = [];
  for (const recipe of spec.axes.recipes)
    for (const model of spec.axes.models)
      for (const loss of spec.axes.losses)
        for (const classes of spec.axes.classes)
          for (const options of optionCombos)
            for (const seed of spec.axes.seeds) {
              const parts = [recipe, model, loss];
              // Only axes with several values appear in the id, so the common grid keeps short names.
              if (spec.axes.classes.length > 1) parts.push(classes);
              for (const [name, value] of Object.entries(options)) parts.push(`${name}-${value}`);
              parts.push(`s${seed}`);
              cells.push({ id: parts.map(folderSafe).join('__'), recipe, model, loss, seed, classes, options });
            }
  return cells;
}

/** The `covseg train` arguments of a cell (without --resume), given the shared split file. */
export function cellTrainArgs(spec: ExperimentSpec, cell: ExperimentCell, runDir: string, splitFile: string, workers: number): string[] {
  const args = ['train', '--data', spec.dataset, '--out', runDir, '--split', splitFile, '--model', cell.model, '--loss', cell.loss, '--seed', String(cell.seed), '--classes', cell.classes, '--recipe', cell.recipe, '--workers', String(workers)];
  if (spec.gan) args.push('--gan-dir', spec.gan.pairs);
  for (const [name, value] of Object.entries({ ...spec.fixed, ...cell.options })) args.push(TRAIN_OPTION_FLAGS[name as TrainOptionName], String(value));
  return args;
}
