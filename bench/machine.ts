import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The CPU a figure was measured on: model, vendor, the SIMD flags that matter for speed, cores. */
export interface MachineDescription {
  cpuModel: string;
  vendor: string;
  flags: string[];
  cores: number;
  summary: string;
}

// The flags that decide which kernels PyTorch (oneDNN) and XNNPACK's native builds can use; wasm
// itself sees only 128-bit SIMD whatever the CPU has.
const FLAGS_THAT_MATTER = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'neon', 'asimd', 'sve'];

export function machineDescription(): MachineDescription {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the model from Node alone, no flags.
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
  const present = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/));
  const cpuModel = field('model name') ?? cpus()[0]?.model ?? 'unknown CPU';
  const vendor = field('vendor_id') ?? field('CPU implementer') ?? process.arch;
  const flags = FLAGS_THAT_MATTER.filter((f) => present.has(f));
  const cores = cpus().length;
  return { cpuModel, vendor, flags, cores, summary: `${cpuModel} (${vendor}; ${flags.join(' ') || 'flags unknown'}; ${cores} cores)` };
}
