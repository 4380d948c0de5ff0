import { readFileSync } from 'node:fs';

/**
 * One moment on the calling thread, for step timelines across threads. `wall`: milliseconds on the
 * process-wide monotonic clock (`process.hrtime`, the same on every thread, unlike `performance.now`,
 * whose origin is each thread's start). `cpu`: the thread's CPU time so far; `queued`: its time so
 * far runnable but waiting for a CPU (the load from other threads and processes), both in ms, from
 * /proc/thread-self/schedstat (Linux; NaN elsewhere).
 */
export interface ThreadMoment {
  wall: number;
  cpu: number;
  queued: number;
}

export function threadMoment(): ThreadMoment {
  const wall = Number(process.hrtime.bigint()) / 1e6;
  try {
    const [cpu, queued] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { wall, cpu: Number(cpu) / 1e6, queued: Number(queued) / 1e6 };
  } catch {
    return { wall, cpu: NaN, queued: NaN };
  }
}

/** A phase of a traced step that begins at `at` on `thread` (and ends where the thread's next mark begins). */
export interface PhaseMark {
  thread: string;
  phase: string;
  at: ThreadMoment;
}
