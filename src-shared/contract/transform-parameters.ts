/**
 * Every parameter every augmentation transform accepts, with its allowed range. One table serves the
 * contract (a request naming `sigma: 1e9` is refused before any work starts) and the recipe-file
 * loader (the same message, with the file's name), so the two can never disagree.
 *
 * The bounds are generous for research use and tight enough that one slice transforms in well under
 * a second: elastic `sigma` sets a blur radius, `alpha` a displacement in pixels, weathering
 * `generations` the number of JPEG round trips.
 */
export type ParameterSpec =
  | { kind: 'number'; min: number; max: number; unit?: string }
  | { kind: 'integer'; min: number; max: number; unit?: string }
  | { kind: 'boolean' }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'integer-list'; min: number; max: number; maxLength: number };

const PROB: ParameterSpec = { kind: 'number', min: 0, max: 1 };
const QUALITY: ParameterSpec = { kind: 'integer', min: 1, max: 100 };
const MIX_ALPHA: ParameterSpec = { kind: 'number', min: 0.05, max: 10 };

export const TRANSFORM_PARAMETERS: Record<string, Record<string, ParameterSpec>> = {
  RandFlip: { prob: PROB, horizontal: { kind: 'boolean' }, vertical: { kind: 'boolean' } },
  RandRotate90: { prob: PROB },
  RandRotate: { prob: PROB, maxDegrees: { kind: 'number', min: 0, max: 180, unit: 'degrees' } },
  RandElastic: { prob: PROB, alpha: { kind: 'number', min: 0, max: 64, unit: 'pixels' }, sigma: { kind: 'number', min: 0.5, max: 64, unit: 'pixels' } },
  MixUp: { prob: PROB, alpha: MIX_ALPHA, maskPolicy: { kind: 'choice', values: ['soft', 'hard'] } },
  CutMix: { prob: PROB, alpha: MIX_ALPHA },
  RandJpeg: { prob: PROB, minQuality: QUALITY, maxQuality: QUALITY },
  DigitalWeathering: {
    prob: PROB,
    quality: QUALITY,
    generations: { kind: 'integer', min: 1, max: 60 },
    schedule: { kind: 'integer-list', min: 1, max: 100, maxLength: 60 },
    jitter: { kind: 'choice', values: ['none', 'shift', 'rescale'] },
  },
};

function describeRange(spec: ParameterSpec): string {
  switch (spec.kind) {
    case 'number':
      return `a number in [${spec.min}, ${spec.max}]${spec.unit ? ` (${spec.unit})` : ''}`;
    case 'integer':
      return `an integer in [${spec.min}, ${spec.max}]${spec.unit ? ` (${spec.unit})` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${spec.values.join(', ')}`;
    case 'integer-list':
      return `a list of 1-${spec.maxLength} integers in [${spec.min}, ${spec.max}]`;
  }
}

function fits(spec: ParameterSpec, value: unknown): boolean {
  const inRange = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  switch (spec.kind) {
    case 'number':
      return inRange(value, spec.min, spec.max);
    case 'integer':
      return inRange(value, spec.min, spec.max) && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'choice':
      return typeof value === 'string' && spec.values.includes(value);
    case 'integer-list':
      return Array.isArray(value) && value.length >= 1 && value.length <= spec.maxLength && value.every((v) => inRange(v, spec.min, spec.max) && Number.isInteger(v));
  }
}

const shown = (value: unknown) => (typeof value === 'string' ? `"${value}"` : Array.isArray(value) ? `[${value.length} values]` : String(value));

/**
 * The problems of one recipe step (`{ type, ...parameters }`), each naming the transform, the
 * parameter, its allowed range and the value given; empty when the step is valid.
 */
export function transformStepProblems(step: { type: string; [parameter: string]: unknown }): string[] {
  const parameters = TRANSFORM_PARAMETERS[step.type];
  if (!parameters) return [`unknown transform "${step.type}" (use one of: ${Object.keys(TRANSFORM_PARAMETERS).join(', ')})`];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(step)) {
    if (name === 'type') continue;
    const spec = parameters[name];
    if (!spec) problems.push(`${step.type} has no parameter "${name}" (its parameters: ${Object.keys(parameters).join(', ')})`);
    else if (!fits(spec, value)) problems.push(`${step.type} ${name} must be ${describeRange(spec)}, got ${shown(value)}`);
  }
  if (step.type === 'RandJpeg' && typeof step.minQuality === 'number' && typeof step.maxQuality === 'number' && step.minQuality > step.maxQuality) {
    problems.push(`RandJpeg minQuality (${step.minQuality}) must not exceed maxQuality (${step.maxQuality})`);
  }
  return problems;
}
