// Starts a TypeScript worker module when running from sources (CLI via tsx, tests): Node 20 does not
// apply `--import` loader hooks to workers reliably, so the worker registers tsx itself.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.tsEntry);
