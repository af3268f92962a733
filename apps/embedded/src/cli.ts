#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { explain } from '@mobius/planner';
import { createPlan } from '@mobius/planner';
import { MobiusError } from '@mobius/interface';
import { captureJob, importJob } from '@mobius/job-loader';
import { jobArgv } from './job-argv.js';
import { setJobSource } from './job-source.js';
import './register-default-runner.js';

const USAGE = `Usage:
  mobius run <job.ts|job.js> [args...]     run a job in this process (embedded mode)
  mobius explain <job.ts|job.js> [--format text|mermaid|all] [-- args...]
                                           print the execution plan without running it; the job
                                           sees the same process.argv as under run
  mobius --version | --help`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const file = rest[0];
      if (file === undefined) throw new MobiusError('USAGE', 'mobius run: missing the job file');
      process.argv = jobArgv(file, rest.slice(1));
      // Task threads (execution.threads, auto by default) import this module to get the job's functions.
      setJobSource(file, process.argv.slice(2));
      await importJob(file);
      return 0;
    }
    case 'explain': {
      // explain's own flags come before `--`; the job's arguments after it (or after the file).
      let format = 'all';
      const files: string[] = [];
      const split = rest.indexOf('--');
      const own = split < 0 ? rest : rest.slice(0, split);
      for (let i = 0; i < own.length; i++) {
        if (own[i] === '--format') format = own[++i];
        else if (own[i].startsWith('--format=')) format = own[i].slice('--format='.length);
        else if (own[i].startsWith('--')) throw new MobiusError('USAGE', `mobius explain: unknown flag ${own[i]} (the job's own arguments go after --)`);
        else files.push(own[i]);
      }
      const file = files[0];
      if (file === undefined) throw new MobiusError('USAGE', 'mobius explain: missing the job file');
      if (format !== 'text' && format !== 'mermaid' && format !== 'all') {
        throw new MobiusError('USAGE', `mobius explain: --format must be text, mermaid or all, got ${String(format)}`);
      }
      process.argv = jobArgv(file, [...files.slice(1), ...(split < 0 ? [] : rest.slice(split + 1))]);
      const job = await captureJob(file);
      const plan = createPlan(job.graph, job.name);
      if (format !== 'mermaid') process.stdout.write(`${explain(plan, 'text')}\n`);
      if (format === 'all') process.stdout.write('\n```mermaid\n');
      if (format !== 'text') process.stdout.write(`${explain(plan, 'mermaid')}\n`);
      if (format === 'all') process.stdout.write('```\n');
      return 0;
    }
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
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
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mobius: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
