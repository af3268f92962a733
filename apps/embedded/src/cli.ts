#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { explain } from '@mobius/planner';
import { createPlan } from '@mobius/planner';
import { MobiusError } from '@mobius/interface';
import { captureJob, importJob } from '@mobius/job-loader';
import './register-default-runner.js';

const USAGE = `Usage:
  mobius run <job.ts|job.js> [args...]     run a job in this process (embedded mode)
  mobius explain <job.ts|job.js> [--format text|mermaid|all]
                                           print the execution plan without running it
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
      process.argv = [process.argv[0], file, ...rest.slice(1)];
      await importJob(file);
      return 0;
    }
    case 'explain': {
      let format = 'all';
      const files: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--format') format = rest[++i];
        else if (rest[i].startsWith('--format=')) format = rest[i].slice('--format='.length);
        else if (rest[i].startsWith('--')) throw new MobiusError('USAGE', `mobius explain: unknown flag ${rest[i]}`);
        else files.push(rest[i]);
      }
      const file = files[0];
      if (file === undefined) throw new MobiusError('USAGE', 'mobius explain: missing the job file');
      if (format !== 'text' && format !== 'mermaid' && format !== 'all') {
        throw new MobiusError('USAGE', `mobius explain: --format must be text, mermaid or all, got ${String(format)}`);
      }
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
