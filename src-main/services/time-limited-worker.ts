import type { Worker } from 'node:worker_threads';
import { CovsegError } from '../engine/errors';

/**
 * What a job worker answers: the value, or an error with the parts a person acts on. A worker posts
 * `{ ready: true }` once its modules are loaded.
 */
export type WorkerReply<T> = { id: number; ok: true; value: T } | { id: number; ok: false; error: { code: string; message: string; file?: string; fix?: string } };

/**
 * One worker thread running jobs one at a time, each within `limitMs`. A job over the limit has
 * its worker terminated (the only way to stop a synchronous loop) and fails with a `timeout` error;
 * the next job starts a fresh worker. Serial jobs also keep a burst of requests from occupying
 * every core the training needs.
 */
export class TimeLimitedWorker<Request, Reply> {
  private worker: { thread: Worker; ready: Promise<void> } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;

  constructor(
    private readonly start: () => Worker,
    private readonly limitMs: number,
    /** Names the work in the timeout message, e.g. "augmentation preview". */
    private readonly what: string,
  ) {}

  /** Runs one job after the ones already queued; `transfer` hands buffers over without a copy. */
  run(request: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const job = this.queue.then(() => this.runNow(request, transfer));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Starts the worker and waits for its `ready` message, so loading modules never counts against a job's limit. */
  private launch(): { thread: Worker; ready: Promise<void> } {
    const thread = this.start();
    // Unreferenced: an idle worker must not keep a CLI or a test process alive (a running job's timer does).
    thread.unref();
    // A job's own listeners report its failure; these keep an idle worker's crash from taking the
    // server down (an 'error' event without a listener throws) and start a fresh one next time.
    thread.on('error', () => undefined);
    thread.on('exit', () => {
      if (this.worker?.thread === thread) this.worker = undefined;
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if ((message as { ready?: boolean })?.ready !== true) return;
        thread.off('message', onMessage);
        thread.off('error', reject);
        resolve();
      };
      thread.on('message', onMessage);
      thread.once('error', reject);
    });
    return { thread, ready };
  }

  private async runNow(request: Request, transfer: ArrayBuffer[]): Promise<Reply> {
    this.worker ??= this.launch();
    const { thread: worker } = this.worker;
    try {
      await this.worker.ready;
    } catch (error) {
      this.worker = undefined;
      throw new CovsegError('internal', `${this.what} could not start: ${(error as Error).message}`);
    }
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: WorkerReply<Reply>) => {
        if (reply.id !== id) return;
        finish();
        if (reply.ok) resolve(reply.value);
        else reject(new CovsegError((reply.error.code as CovsegError['code']) ?? 'internal', reply.error.message, { ...(reply.error.file ? { file: reply.error.file } : {}), ...(reply.error.fix ? { fix: reply.error.fix } : {}) }));
      };
      const onError = (error: Error) => {
        finish();
        this.worker = undefined;
        reject(new CovsegError('internal', `${this.what} failed: ${error.message}`));
      };
      const onExit = () => {
        finish();
        this.worker = undefined;
        reject(new CovsegError('internal', `${this.what} stopped unexpectedly`));
      };
      const timer = setTimeout(() => {
        finish();
        this.worker = undefined;
        void worker.terminate();
        reject(
          new CovsegError('timeout', `${this.what} took longer than ${(this.limitMs / 1000).toFixed(this.limitMs < 1000 ? 2 : 0)} s and was stopped`, {
            fix: 'use smaller parameters (e.g. a lower sigma, alpha or fewer generations) and try again',
          }),
        );
      }, this.limitMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, request }, transfer);
    });
  }

  /** Ends the worker; queued jobs fail. */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.thread.terminate();
  }
}
