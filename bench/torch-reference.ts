// PyTorch reference timings for the benches, from every PyTorch this machine has: Debian's
// python3-torch (/usr/bin/python3) and the Python named by COVSEG_PYTHON (e.g. a venv with pip's
// torch 2.x). Versions differ in speed on the same cores (~1.7x here), so ratios are reported
// against each, never against "PyTorch" in general. References only, never tests.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface TorchPython {
  python: string;
  version: string;
}

/** The Pythons that can import torch: COVSEG_PYTHON first when set, then Debian's, without duplicates. */
export function torchPythons(): TorchPython[] {
  const candidates = [process.env.COVSEG_PYTHON, existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'].filter((p): p is string => Boolean(p));
  const found: TorchPython[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    const version = probe.stdout?.trim();
    if (probe.status === 0 && version && !found.some((f) => f.version === version)) found.push({ python, version });
  }
  return found;
}

/** Runs one of bench/*.py with the given Python and arguments; its last stdout line is JSON. */
export function runTorchScript<T>(python: string, script: string, args: string[]): T | undefined {
  const run = spawnSync(python, [join(import.meta.dirname, script), ...args], { encoding: 'utf8', timeout: 900_000 });
  if (run.status !== 0) {
    console.error(`${script} with ${python} failed: ${run.stderr?.trim().split('\n').pop() ?? `exit ${run.status}`}`);
    return undefined;
  }
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
}

export function ratio(ours: number, reference: number | undefined): number | null {
  return reference ? Math.round((ours / reference) * 100) / 100 : null;
}

/** A bench/*.py script running `--serve`: one JSON command per line in, one JSON answer per line out. */
export interface TorchServer {
  version: string;
  request<T>(command: Record<string, unknown>): Promise<T>;
  close(): void;
}

/** Starts `script --serve` with `python`; the process idles (no CPU) between requests. */
export function startTorchServer(torch: TorchPython, script: string): TorchServer {
  const proc = spawn(torch.python, [join(import.meta.dirname, script), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    version: torch.version,
    request: <T>(command: Record<string, unknown>) => {
      const answer = queue.then(async () => {
        proc.stdin.write(`${JSON.stringify(command)}\n`);
        const line = await lines.next();
        if (line.done) throw new Error(`${script} with ${torch.python} ended early (exit ${proc.exitCode})`);
        return JSON.parse(line.value) as T;
      });
      queue = answer.catch(() => {});
      return answer;
    },
    close: () => proc.stdin.end(),
  };
}
