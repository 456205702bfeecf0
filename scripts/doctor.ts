/**
 * `npm run doctor [-- --stage <stage> [--region <region>]] [--json] [--corp-id <id>] [--callback-url <url>]`
 *
 * Checks the whole configuration and prints ✔ or ✗ per item, with the fix under each ✗.
 * - `--stage`: the deployed stage: its SSM parameters and stack outputs, the platform checks run
 *   by its doctor function from the workers' network, its callback, dead-letter queue, schedule
 *   and latest reconcile report (AWS credentials as for `serverless deploy`).
 * - without it: the environment's settings, checked from this machine, and the `npm start`
 *   running with them (with no credentials set, the sandbox `npm start`).
 * Exit 0 when nothing is ✗, 1 when something is, 2 when the doctor itself could not run.
 */
import { defaultStageClients, StageInspector } from '../lib/aws/stage-inspector';
import type { DoctorReport } from '../lib/doctor/check';
import { formatReport } from '../lib/doctor/format';
import { localDoctor } from '../lib/doctor/local-doctor';
import { stageDoctor } from '../lib/doctor/stage-doctor';
import { type Cli, cli } from './cli';

const USAGE = 'usage: npm run doctor [-- --stage <stage> [--region <region>]] [--json] [--corp-id <CorpId>] [--callback-url <url>]';

const command: Cli = cli('doctor', USAGE, 2);

async function main(): Promise<void> {
  const args = command.optionsOrHelp({
    stage: { type: 'string' },
    region: { type: 'string' },
    json: { type: 'boolean' },
    'corp-id': { type: 'string' },
    'callback-url': { type: 'string' },
  });
  if (!args) return;
  let report: DoctorReport;
  if (args.stage !== undefined) {
    const inspector = new StageInspector(args.stage, defaultStageClients(args.region));
    report = await stageDoctor({ inspector, corpId: args['corp-id'], callbackUrl: args['callback-url'] });
  } else {
    if (args.region !== undefined) command.fail('--region goes with --stage');
    report = await localDoctor({ env: process.env, corpId: args['corp-id'], callbackUrl: args['callback-url'] });
  }
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((e: unknown) => command.fail(e instanceof Error ? e.message : String(e)));
