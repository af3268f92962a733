#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MobiusError } from '@mobius/interface';
import { generateCurveKeyPair } from '@mobius/transport-zeromq';
import { checkFlags, intFlag, parseArgs, stringFlag, type ParsedArgs } from './args.js';
import { ClusterClient, waitForRescale, type JobSummary } from './client.js';
import { runCollectingJob } from './collect-runner.js';
import { DEFAULT_DEPLOY_TIMEOUT_MS } from './control-gateway.js';
import { Coordinator } from './coordinator.js';
import { createHttpApi, listen } from './http-api.js';
import { bundleJob, PLANNER_DEFAULTS, type JobPlannerOptions } from '@mobius/job-loader';
import { DEFAULT_MAX_BODY_BYTES } from './http-body.js';
import { LocalCluster } from './local-cluster.js';
import { createLogger } from './logger.js';
import { resolveToken } from './token.js';
import { Worker } from './worker.js';

const USAGE = `Usage:
  mobius-cluster coordinator [--host 127.0.0.1] [--port 6123] [--http-port 8081] [--data-dir DIR]
                             [--token T | --token-file F] [--heartbeat-timeout-ms 2000] [--deploy-timeout-ms 30000]
                             [--plan-timeout-ms 30000] [--plan-max-heap-mb 512] [--plan-concurrency 4]
                             [--plan-queue-limit 32] [--http-max-body-bytes 8388608]
  mobius-cluster worker --coordinator tcp://HOST:PORT [--slots 4] [--token T | --token-file F]
                        [--host 127.0.0.1] [--transport zeromq|MODULE] [--curve-keys FILE]
                        [--task-threads N]                (default: one per slot; 0 = main thread)
  mobius-cluster keygen                                  print a CURVE key pair (JSON) for --curve-keys
  mobius-cluster local --workers N [--port 6123] [--http-port 8081] [--token T | --token-file F] [--slots 4]
                       [--transport zeromq|MODULE] [--heartbeat-timeout-ms 2000] [--deploy-timeout-ms 30000]
                       [--curve-keys FILE] [--task-threads N]
  mobius-cluster submit job.ts [--wait] [--name NAME] [--from-savepoint PATH] [-- job args...]
  mobius-cluster list
  mobius-cluster status JOB
  mobius-cluster cancel JOB
  mobius-cluster savepoint JOB                           prints the savepoint folder
  mobius-cluster stop JOB [--savepoint]
  mobius-cluster rescale JOB --operator OP --parallelism N [--wait]
                                                         live: only OP's tasks restart; prints the rescale's id
                                                         (--wait: its event once it is done)
    (these talk to --url URL, default http://127.0.0.1:8081 or MOBIUS_URL, with --token T or MOBIUS_TOKEN)
  The token is best given as MOBIUS_TOKEN or --token-file F (MOBIUS_TOKEN_FILE): a --token flag
  shows in ps to every user of the machine; local passes it to its children in MOBIUS_TOKEN.`;

const CLIENT_FLAGS = ['url', 'token', 'token-file'];
const PLANNING_FLAGS = ['plan-timeout-ms', 'plan-max-heap-mb', 'plan-concurrency', 'plan-queue-limit'];

/** The planning child's limits from the coordinator's flags (job.plan.timeout.ms is --plan-timeout-ms). */
function planningOptions(args: ParsedArgs): JobPlannerOptions {
  return {
    timeoutMs: intFlag(args, 'plan-timeout-ms', PLANNER_DEFAULTS.timeoutMs, 1),
    maxHeapMb: intFlag(args, 'plan-max-heap-mb', PLANNER_DEFAULTS.maxHeapMb, 16),
    concurrency: intFlag(args, 'plan-concurrency', PLANNER_DEFAULTS.concurrency, 1),
    queueLimit: intFlag(args, 'plan-queue-limit', PLANNER_DEFAULTS.queueLimit, 0),
  };
}

/** More task threads than this is a typo, not a machine: each thread has a socket and imports every job. */
const MAX_TASK_THREADS = 256;

/** `--task-threads N` (undefined: the worker's default, one per slot). */
function taskThreadsFlag(args: ParsedArgs): number | undefined {
  if (!args.flags.has('task-threads')) return undefined;
  const n = intFlag(args, 'task-threads', 0, 0);
  if (n > MAX_TASK_THREADS) throw new MobiusError('USAGE', `--task-threads must be at most ${MAX_TASK_THREADS}, got ${n}`);
  return n;
}

function client(args: ParsedArgs): ClusterClient {
  const url = stringFlag(args, 'url') ?? process.env.MOBIUS_URL ?? 'http://127.0.0.1:8081';
  return new ClusterClient(url, resolveToken(stringFlag(args, 'token'), stringFlag(args, 'token-file')));
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Reads a CURVE key pair file ({ "publicKey", "secretKey" }, as printed by `keygen`). */
function readCurveKeys(file: string | undefined): { publicKey: string; secretKey: string } | undefined {
  if (file === undefined) return undefined;
  const keys = JSON.parse(readFileSync(file, 'utf8')) as { publicKey?: unknown; secretKey?: unknown };
  if (typeof keys.publicKey !== 'string' || typeof keys.secretKey !== 'string') {
    throw new MobiusError('USAGE', `--curve-keys ${file}: expected JSON { "publicKey": "...", "secretKey": "..." } (see mobius-cluster keygen)`);
  }
  return { publicKey: keys.publicKey, secretKey: keys.secretKey };
}

const TERMINAL = new Set(['FINISHED', 'CANCELED', 'FAILED']);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'coordinator': {
      const args = parseArgs(rest);
      checkFlags(args, command, ['host', 'port', 'http-port', 'data-dir', 'token', 'token-file', 'heartbeat-timeout-ms', 'deploy-timeout-ms', ...PLANNING_FLAGS, 'http-max-body-bytes']);
      const host = stringFlag(args, 'host') ?? '127.0.0.1';
      const maxBodyBytes = intFlag(args, 'http-max-body-bytes', DEFAULT_MAX_BODY_BYTES, 1);
      const logger = createLogger('mobius-coordinator');
      const coordinator = new Coordinator({
        host,
        port: intFlag(args, 'port', 6123),
        httpPort: intFlag(args, 'http-port', 8081),
        dataDir: stringFlag(args, 'data-dir'),
        token: resolveToken(stringFlag(args, 'token'), stringFlag(args, 'token-file')),
        heartbeatTimeoutMs: intFlag(args, 'heartbeat-timeout-ms', 2000, 1),
        deployTimeoutMs: intFlag(args, 'deploy-timeout-ms', DEFAULT_DEPLOY_TIMEOUT_MS, 1),
        planning: planningOptions(args),
        logger,
      });
      await coordinator.start();
      const http = createHttpApi(coordinator, logger, { maxBodyBytes });
      const port = await listen(http, host, intFlag(args, 'http-port', 8081));
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      onSignals(async () => {
        http.close();
        await coordinator.stop();
      });
      process.stdout.write(`mobius coordinator ready: ${url} control ${coordinator.controlEndpoint}\n`);
      return -1; // keep running
    }
    case 'worker': {
      const args = parseArgs(rest);
      checkFlags(args, command, ['coordinator', 'slots', 'token', 'token-file', 'host', 'transport', 'curve-keys', 'task-threads']);
      const coordinatorUrl = stringFlag(args, 'coordinator');
      if (coordinatorUrl === undefined) throw new MobiusError('USAGE', 'mobius-cluster worker: --coordinator tcp://HOST:PORT is required');
      const worker = new Worker({
        coordinator: coordinatorUrl,
        slots: intFlag(args, 'slots', 4, 1),
        taskThreads: taskThreadsFlag(args),
        token: resolveToken(stringFlag(args, 'token'), stringFlag(args, 'token-file')),
        host: stringFlag(args, 'host'),
        transport: stringFlag(args, 'transport'),
        curve: readCurveKeys(stringFlag(args, 'curve-keys')),
        logger: createLogger('mobius-worker'),
      });
      onSignals(() => worker.stop());
      await worker.start();
      process.stdout.write(`mobius worker ${worker.id} ready: ${worker.endpoint}\n`);
      return -1;
    }
    case 'local': {
      const args = parseArgs(rest);
      checkFlags(args, command, ['workers', 'port', 'http-port', 'token', 'token-file', 'slots', 'transport', 'heartbeat-timeout-ms', 'deploy-timeout-ms', 'curve-keys', 'task-threads']);
      const cluster = new LocalCluster({
        workers: intFlag(args, 'workers', 2, 1),
        port: intFlag(args, 'port', 6123),
        httpPort: intFlag(args, 'http-port', 8081),
        token: resolveToken(stringFlag(args, 'token'), stringFlag(args, 'token-file')),
        slots: args.flags.has('slots') ? intFlag(args, 'slots', 4, 1) : undefined,
        transport: stringFlag(args, 'transport'),
        curveKeys: stringFlag(args, 'curve-keys'),
        taskThreads: taskThreadsFlag(args),
        heartbeatTimeoutMs: args.flags.has('heartbeat-timeout-ms') ? intFlag(args, 'heartbeat-timeout-ms', 2000, 1) : undefined,
        deployTimeoutMs: args.flags.has('deploy-timeout-ms') ? intFlag(args, 'deploy-timeout-ms', DEFAULT_DEPLOY_TIMEOUT_MS, 1) : undefined,
        cliPath: fileURLToPath(import.meta.url),
        logger: createLogger('mobius-local'),
      });
      process.on('SIGINT', () => void cluster.stop(0));
      process.on('SIGTERM', () => void cluster.stop(0));
      const url = await cluster.start();
      process.stdout.write(`Mobius cluster ready: ${url}\n`);
      return cluster.wait();
    }
    case 'keygen': {
      process.stdout.write(`${JSON.stringify(generateCurveKeyPair())}\n`);
      return 0;
    }
    case 'submit': {
      // Everything after `--` belongs to the job (process.argv.slice(2) in the job module).
      const split = rest.indexOf('--');
      const jobArgs = split < 0 ? [] : rest.slice(split + 1);
      const args = parseArgs(split < 0 ? rest : rest.slice(0, split), ['wait']);
      checkFlags(args, command, [...CLIENT_FLAGS, 'wait', 'name', 'from-savepoint']);
      const file = args.positionals[0];
      if (file === undefined) throw new MobiusError('USAGE', 'mobius-cluster submit: missing the job file');
      const bundle = await bundleJob(file);
      const api = client(args);
      const fromSavepoint = stringFlag(args, 'from-savepoint');
      const job = await api.call<JobSummary & { graphHash: string; collectSinks?: string[] }>('POST', '/jobs', {
        bundle,
        name: stringFlag(args, 'name'),
        fromSavepoint: fromSavepoint === undefined ? undefined : resolve(fromSavepoint),
        args: [...args.positionals.slice(1), ...jobArgs],
      });
      process.stdout.write(`${job.id}\n`);
      // A job that collects its records runs here too: its executeAndCollect() reads them.
      if ((job.collectSinks ?? []).length > 0) return runCollectingJob(file, [...args.positionals.slice(1), ...jobArgs], api, job);
      if (!args.flags.has('wait')) return 0;
      for (;;) {
        const status = await api.call<JobSummary>('GET', `/jobs/${job.id}`);
        if (TERMINAL.has(status.state)) {
          if (status.state === 'FINISHED') return 0;
          process.stderr.write(`mobius-cluster: job ${job.id} ${status.state}${status.error ? `: ${status.error}` : ''}\n`);
          return 1;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    case 'list': {
      const args = parseArgs(rest);
      checkFlags(args, command, CLIENT_FLAGS);
      const jobs = await client(args).call<JobSummary[]>('GET', '/jobs');
      for (const j of jobs) process.stdout.write(`${j.id}  ${j.state.padEnd(9)}  ${j.name}${j.error ? `  (${j.error})` : ''}\n`);
      return 0;
    }
    case 'savepoint': {
      const args = parseArgs(rest);
      checkFlags(args, command, CLIENT_FLAGS);
      const id = args.positionals[0];
      if (id === undefined) throw new MobiusError('USAGE', 'mobius-cluster savepoint: missing the job id');
      const result = await client(args).call<{ checkpointId: number; path: string }>('POST', `/jobs/${id}/savepoint`);
      process.stdout.write(`${result.path}\n`);
      return 0;
    }
    case 'stop': {
      const args = parseArgs(rest, ['savepoint']);
      checkFlags(args, command, [...CLIENT_FLAGS, 'savepoint']);
      const id = args.positionals[0];
      if (id === undefined) throw new MobiusError('USAGE', 'mobius-cluster stop: missing the job id');
      const result = await client(args).call<{ savepoint: { path: string } | null }>('POST', `/jobs/${id}/stop`, { savepoint: args.flags.has('savepoint') });
      if (result.savepoint !== null) process.stdout.write(`${result.savepoint.path}\n`);
      return 0;
    }
    case 'rescale': {
      const args = parseArgs(rest, ['wait']);
      checkFlags(args, command, [...CLIENT_FLAGS, 'operator', 'parallelism', 'wait']);
      const id = args.positionals[0];
      const operator = stringFlag(args, 'operator');
      if (id === undefined) throw new MobiusError('USAGE', 'mobius-cluster rescale: missing the job id');
      if (operator === undefined) throw new MobiusError('USAGE', 'mobius-cluster rescale: missing --operator OP (the operator\'s id, uid or name)');
      if (!args.flags.has('parallelism')) throw new MobiusError('USAGE', 'mobius-cluster rescale: missing --parallelism N');
      const api = client(args);
      const accepted = await api.call<{ id: string }>('POST', `/jobs/${id}/rescale`, { operator, parallelism: intFlag(args, 'parallelism', 1, 1) });
      if (!args.flags.has('wait')) {
        process.stdout.write(`${accepted.id}\n`);
        return 0;
      }
      const event = await waitForRescale(api, id, accepted.id);
      process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
      if (event.failed === undefined) return 0;
      process.stderr.write(`mobius-cluster: rescale ${accepted.id} failed: ${event.failed}\n`);
      return 1;
    }
    case 'status':
    case 'cancel': {
      const args = parseArgs(rest);
      checkFlags(args, command, CLIENT_FLAGS);
      const id = args.positionals[0];
      if (id === undefined) throw new MobiusError('USAGE', `mobius-cluster ${command}: missing the job id`);
      const result = command === 'status' ? await client(args).call('GET', `/jobs/${id}`) : await client(args).call('POST', `/jobs/${id}/cancel`);
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    default:
      throw new MobiusError('USAGE', `unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mobius-cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
