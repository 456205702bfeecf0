/**
 * What `npm run status` and `npm run history` share: where the answers come from, and printing
 * them. A function of the arguments and the clients, so the tests can run it against local SQS
 * and DynamoDB servers and a stand-in for CloudFormation and CloudWatch.
 *
 * Where: `--stage <stage>` asks the deployed stack (its outputs name the queues and the table; AWS
 * credentials and region from the environment, or `--region`), `--url <url>` a running
 * `npm start`; neither asks `npm start` on this machine (http://127.0.0.1:$PORT, default 3000).
 */
import { parseArgs } from 'node:util';
import { StackOutputsError } from '../lib/aws/stack-outputs';
import { type StageClients, stageOperations } from '../lib/compose/aws-operations';
import { MAX_HISTORY_LIMIT } from '../lib/history/history';
import type { EntityKind } from '../lib/ports';
import { httpOperations, type Operations, OperationsHttpError } from '../lib/status/operations';
import { renderHistory, renderStatus } from '../lib/status/render';

export interface OperationsCliDeps {
  env?: Record<string, string | undefined>;
  stageClients?: StageClients;
  fetch?: typeof fetch;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const WHERE = '[--stage <stage> [--region <region>] | --url <http://127.0.0.1:3000>] [--json]';
export const STATUS_USAGE = `usage: npm run status -- ${WHERE}`;
export const HISTORY_USAGE = `usage: npm run history -- (--user <userid> | --dept <id>) [--limit <n>] ${WHERE}`;

const COMMON = {
  stage: { type: 'string' },
  region: { type: 'string' },
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

class UsageError extends Error {}

async function operationsFor(args: { stage?: string; region?: string; url?: string }, deps: OperationsCliDeps): Promise<{ ops: Operations; source: string }> {
  if (args.stage !== undefined && args.url !== undefined) throw new UsageError('give --stage or --url, not both');
  if (args.stage !== undefined) {
    if (!/^[A-Za-z0-9-]+$/.test(args.stage)) throw new UsageError('--stage is a serverless stage name (letters, digits, hyphens)');
    const ops = await stageOperations(args.stage, { ...deps.stageClients, region: args.region ?? deps.stageClients?.region });
    return { ops, source: `stage ${args.stage}` };
  }
  if (args.region !== undefined) throw new UsageError('--region goes with --stage');
  const url = args.url ?? `http://127.0.0.1:${deps.env?.PORT?.trim() || '3000'}`;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url is not a valid URL: ${url}`);
  }
  return { ops: httpOperations(url, deps.fetch), source: url };
}

async function run(name: string, usage: string, body: () => Promise<string>): Promise<CliResult> {
  try {
    return { code: 0, stdout: await body(), stderr: '' };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, stdout: '', stderr: `${name}: ${e.message}\n${usage}\n` };
    // Our own errors say what to do; the SDK's name is part of what it says (no credentials, no such stack).
    const own = e instanceof OperationsHttpError || e instanceof StackOutputsError;
    const message = e instanceof Error ? (own || e.name === 'Error' ? e.message : `${e.name}: ${e.message}`) : String(e);
    return { code: 1, stdout: '', stderr: `${name}: ${message}\n` };
  }
}

/** The parser's complaint (an unknown option, a missing value) as a usage error. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function statusCommand(argv: string[], deps: OperationsCliDeps = {}): Promise<CliResult> {
  return run('status', STATUS_USAGE, async () => {
    const args = parsed(() => parseArgs({ args: argv, options: COMMON, strict: true }).values);
    if (args.help) return `${STATUS_USAGE}\n`;
    const { ops, source } = await operationsFor(args, deps);
    const report = await ops.status();
    return args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, source);
  });
}

export function historyCommand(argv: string[], deps: OperationsCliDeps = {}): Promise<CliResult> {
  return run('history', HISTORY_USAGE, async () => {
    const options = { ...COMMON, user: { type: 'string' }, dept: { type: 'string' }, limit: { type: 'string' } } as const;
    const args = parsed(() => parseArgs({ args: argv, options, strict: true }).values);
    if (args.help) return `${HISTORY_USAGE}\n`;
    if ((args.user === undefined) === (args.dept === undefined)) throw new UsageError('give one of --user <userid> or --dept <id>');
    const kind: EntityKind = args.user !== undefined ? 'user' : 'dept';
    const id = (args.user ?? args.dept)!.trim();
    if (id === '') throw new UsageError(`--${kind} needs an id`);
    if (kind === 'dept' && !/^\d+$/.test(id)) throw new UsageError('department ids are positive whole numbers');
    const limit = args.limit === undefined ? undefined : Number(args.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)) {
      throw new UsageError(`--limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    const { ops } = await operationsFor(args, deps);
    const items = await ops.history(kind, id, limit);
    return args.json ? `${JSON.stringify({ items }, null, 2)}\n` : renderHistory(kind, id, items);
  });
}

/** Runs a command for a script's entry point: prints, and sets the exit code. */
export async function main(command: (argv: string[], deps: OperationsCliDeps) => Promise<CliResult>): Promise<void> {
  const result = await command(process.argv.slice(2), { env: process.env });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
