import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { CovsegError } from '../../errors';

/** Where to find a one-node cluster when there is none: said by every "Slurm is missing" error. */
const SETUP_HINT = 'install Slurm, or start a one-node cluster on this machine with `node scripts/slurm-local.mjs` (root + apt)';

interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a Slurm client command; a missing binary or a failure becomes a CovsegError naming the command and its message. */
function slurm(command: string, args: readonly string[], cwd?: string): Promise<CommandResult> {
  return new Promise((resolveRun, reject) => {
    execFile(command, args, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) => {
      if (!error) return resolveRun({ stdout, stderr });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new CovsegError('unsupported', `\`${command}\` is not installed: this machine is no Slurm submit host`, { fix: SETUP_HINT }));
        return;
      }
      const detail = (stderr || error.message).trim().split('\n').at(-1) ?? '';
      reject(new CovsegError('unsupported', `\`${command} ${args.join(' ')}\` failed: ${detail}`, { fix: 'check the cluster with `sinfo` and `squeue`; ' + SETUP_HINT }));
    });
  });
}

/** Submits a batch script; returns the job id (an array job's id, without any `;cluster` suffix). */
export async function submitBatch(scriptFile: string, cwd: string): Promise<string> {
  const { stdout } = await slurm('sbatch', ['--parsable', scriptFile], cwd);
  const id = stdout.trim().split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) throw new CovsegError('internal', `sbatch answered "${stdout.trim()}" instead of a job id`, { file: scriptFile });
  return id;
}

/** A task Slurm still holds: queued, running or completing. */
export interface QueuedTask {
  /** `JOB_TASK` for an array task (e.g. `12_3`), `JOB` for a plain job. */
  id: string;
  state: string;
  /** The reason a pending task waits, or the node list of a running one. */
  where: string;
}

/**
 * This user's tasks in the queue, one per array task (`squeue -r`). Asked per user, not per job id,
 * because squeue refuses ids it has already forgotten, which is the normal fate of finished jobs.
 */
export async function queuedTasks(): Promise<Map<string, QueuedTask>> {
  const { stdout } = await slurm('squeue', ['-h', '-r', '-u', userInfo().username, '-o', '%i|%T|%R']);
  const tasks = new Map<string, QueuedTask>();
  for (const line of stdout.split('\n')) {
    const [id, state, where] = line.trim().split('|');
    if (id && state) tasks.set(id, { id, state, where: where ?? '' });
  }
  return tasks;
}

/** How a finished task ended, from `scontrol show job` while slurmctld still remembers it (MinJobAge, 300 s by default). */
export async function finishedTaskInfo(taskId: string): Promise<{ state: string; exitCode: string; reason: string } | undefined> {
  try {
    const { stdout } = await slurm('scontrol', ['-o', 'show', 'job', taskId]);
    const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(stdout)?.[1] ?? '';
    return { state: field('JobState'), exitCode: field('ExitCode'), reason: field('Reason') };
  } catch {
    return undefined;
  }
}

/**
 * Asks running tasks to stop the way Ctrl-C stops `covseg train` (SIGINT to the batch step, which
 * `exec`s covseg: it saves a resumable checkpoint after its current batch), and removes queued ones.
 */
export async function interruptJobs(jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await slurm('scancel', ['--batch', '--signal=INT', '--state=RUNNING', ...jobIds]).catch(() => undefined);
  await slurm('scancel', ['--state=PENDING', ...jobIds]).catch(() => undefined);
}

/** Ends the jobs at once (SIGTERM, then SIGKILL after the cluster's KillWait). */
export async function cancelJobs(jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await slurm('scancel', [...jobIds]);
}
