#!/usr/bin/env node
// A one-node Slurm cluster on this machine, for the Slurm executor's tests and CI: installs Debian's
// slurm-wlm and munge when missing (only as root with apt), writes a minimal slurm.conf, starts
// munged, slurmctld and slurmd, and waits until `sinfo` shows the node idle. Idempotent: a running
// cluster is reused. It never fails the caller: when a step is impossible it says why and exits 0 with
// "skipped" (exit code 3 with --strict), and the Slurm tests skip, saying so.
//
// Plugins are the ones that work in a container without systemd or cgroups: proctrack/linuxproc
// (tracks job processes through /proc parentage), task/none (no CPU binding), no accounting.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chownSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const MARKER = '# written by covseg scripts/slurm-local.mjs';
const CONF = process.env.COVSEG_SLURM_CONF ?? '/etc/slurm/slurm.conf';
const STATE = process.env.COVSEG_SLURM_STATE ?? '/var/tmp/covseg-slurm';
const NODE = 'localhost';
const quiet = process.argv.includes('--quiet');
const strict = process.argv.includes('--strict');

function log(message) {
  if (!quiet) console.error(`[slurm-local] ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: options.timeout ?? 30_000, ...options });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}`.trim(), err: `${result.stderr ?? result.error?.message ?? ''}`.trim() };
}

function has(command) {
  return run('sh', ['-c', `command -v ${command}`]).ok;
}

function skip(reason) {
  log(`skipped: ${reason}`);
  console.log('skipped');
  process.exit(strict ? 3 : 0);
}

function nodeState() {
  const result = run('sinfo', ['-h', '-n', NODE, '-o', '%T'], { timeout: 10_000 });
  return result.ok ? result.out.split('\n')[0]?.replace(/[*~#$@^-]+$/, '') ?? '' : '';
}

function isRunning(name) {
  return run('pgrep', ['-x', name]).ok;
}

function install() {
  const missing = [['sbatch', 'slurm-client'], ['slurmctld', 'slurmctld'], ['slurmd', 'slurmd'], ['munged', 'munge']].filter(([bin]) => !has(bin) && !existsSync(`/usr/sbin/${bin}`)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.platform !== 'linux') skip(`Slurm is missing and this is ${process.platform}, not Linux`);
  if (process.getuid?.() !== 0) skip(`Slurm is missing (${missing.join(', ')}) and installing it needs root; run as root or install slurm-wlm and munge yourself`);
  if (!has('apt-get')) skip(`Slurm is missing (${missing.join(', ')}) and there is no apt-get to install slurm-wlm and munge`);
  log('installing slurm-wlm and munge (apt-get install) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'slurm-wlm', 'munge'], { env, timeout: 600_000 });
  if (!result.ok) {
    run('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
    result = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'slurm-wlm', 'munge'], { env, timeout: 600_000 });
  }
  if (!result.ok) skip(`apt-get install slurm-wlm munge failed: ${result.err.split('\n').at(-1)}`);
}

/** The minimal configuration; the node's memory is 90% of this machine's, so slurmd never finds less than declared. */
function slurmConf() {
  const memoryMb = Math.floor((totalmem() / 1048576) * 0.9);
  return [
    MARKER,
    'ClusterName=covseg-local',
    `SlurmctldHost=${NODE}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    `StateSaveLocation=${STATE}/ctld`,
    `SlurmdSpoolDir=${STATE}/slurmd`,
    `SlurmctldPidFile=${STATE}/slurmctld.pid`,
    `SlurmdPidFile=${STATE}/slurmd.pid`,
    `SlurmctldLogFile=${STATE}/log/slurmctld.log`,
    `SlurmdLogFile=${STATE}/log/slurmd.log`,
    // No systemd/cgroups in a container: /proc-based process tracking, no task binding, no accounting.
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'MpiDefault=none',
    'SchedulerType=sched/backfill',
    // Cores are the consumable: two 1-CPU cells run side by side on a 2-core node.
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    // A node that was down (the machine restarted) comes back by itself when slurmd registers.
    'ReturnToService=2',
    'SlurmdTimeout=60',
    'InactiveLimit=0',
    'KillWait=30',
    `NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=${memoryMb} State=UNKNOWN`,
    `PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

function writeConfig() {
  if (existsSync(CONF) && !readFileSync(CONF, 'utf8').startsWith(MARKER)) {
    // Someone else's cluster configuration: use it as it is, never overwrite it.
    log(`${CONF} exists and was not written by this script: leaving it as it is`);
    return false;
  }
  for (const dir of ['ctld', 'slurmd', 'log']) mkdirSync(join(STATE, dir), { recursive: true });
  mkdirSync(join(CONF, '..'), { recursive: true });
  const wanted = slurmConf();
  const changed = !existsSync(CONF) || readFileSync(CONF, 'utf8') !== wanted;
  if (changed) writeFileSync(CONF, wanted);
  return changed;
}

function startMunge() {
  if (run('sh', ['-c', 'munge -n | unmunge']).ok) return;
  const user = run('id', ['-u', 'munge']).ok ? 'munge' : undefined;
  if (!existsSync('/etc/munge/munge.key')) {
    const made = has('mungekey') ? run('mungekey', ['--create', '--keyfile=/etc/munge/munge.key']) : run('create-munge-key', ['-f']);
    if (!made.ok) skip(`could not create the munge key: ${made.err}`);
    if (user) run('chown', [`${user}:${user}`, '/etc/munge/munge.key']);
  }
  mkdirSync('/run/munge', { recursive: true });
  if (user) {
    const uid = Number(run('id', ['-u', user]).out);
    const gid = Number(run('id', ['-g', user]).out);
    chownSync('/run/munge', uid, gid);
  }
  const started = user ? run('runuser', ['-u', user, '--', 'munged']) : run('munged', ['--force']);
  if (!started.ok) skip(`munged did not start: ${started.err}`);
  if (!run('sh', ['-c', 'munge -n | unmunge']).ok) skip('munged runs but munge -n | unmunge fails');
}

function startDaemons(restart) {
  if (restart) {
    // A changed configuration: restart the daemons this script started before.
    for (const pidFile of ['slurmctld.pid', 'slurmd.pid']) {
      const file = join(STATE, pidFile);
      if (existsSync(file)) run('kill', [readFileSync(file, 'utf8').trim()]);
    }
    spawnSync('sleep', ['1']);
  }
  if (!isRunning('slurmctld')) {
    const result = run('slurmctld', []);
    if (!result.ok) skip(`slurmctld did not start: ${result.err || `see ${STATE}/log/slurmctld.log`}`);
  }
  if (!isRunning('slurmd')) {
    const result = run('slurmd', ['-N', NODE]);
    if (!result.ok) skip(`slurmd did not start: ${result.err || `see ${STATE}/log/slurmd.log`}`);
  }
}

async function waitIdle() {
  const deadline = Date.now() + 60_000;
  let state = '';
  let resumed = false;
  while (Date.now() < deadline) {
    state = nodeState();
    if (['idle', 'mixed', 'allocated', 'completing'].includes(state)) return state;
    if (!resumed && ['down', 'drained', 'draining'].includes(state)) {
      run('scontrol', ['update', `NodeName=${NODE}`, 'State=RESUME']);
      resumed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  skip(`the node never became idle (last state: ${state || 'no answer from sinfo'}); see ${STATE}/log/`);
}

const before = has('sinfo') ? nodeState() : '';
if (['idle', 'mixed', 'allocated', 'completing'].includes(before)) {
  log(`reusing the running cluster (node ${NODE} ${before})`);
  console.log('ready');
  process.exit(0);
}
install();
const changed = writeConfig();
startMunge();
startDaemons(changed);
const state = await waitIdle();
log(`cluster ready: node ${NODE} ${state}, configuration ${CONF}, state and logs under ${STATE}`);
console.log('ready');
