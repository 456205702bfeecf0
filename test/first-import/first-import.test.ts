/**
 * The first-import conversation over a scripted runner: the dry run and its plan, the question,
 * the apply and how each ending is told; and the stage runner against a faked reconcile function
 * that runs the real reconcile over the sandbox and writes its progress to a dynalite table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressWriter, ReconcileProgressItem } from '../../lib/aws/reconcile-progress';
import { StageInspector } from '../../lib/aws/stage-inspector';
import { composeLocalService, type LocalService } from '../../lib/compose/local';
import { type FirstImportIo, firstImport, type ReconcileProgressUpdate, type ReconcileRunner, type RunOutcome } from '../../lib/first-import/first-import';
import { StageReconcileRunner } from '../../lib/first-import/stage-runner';
import { createMemoryLogger } from '../../lib/log';
import type { RunReport } from '../../lib/ports';
import { summarisePlan } from '../../lib/sync/plan-table';
import { runReconcile } from '../../lib/sync/reconcile';
import { fakeClient, localAwsServers } from '../support/fake-aws';

const report = (status: RunReport['status'], dryRun: boolean, extra: Partial<RunReport> = {}): RunReport => ({
  runId: 'r',
  startedAt: 1,
  finishedAt: 2,
  status,
  dryRun,
  counts: dryRun ? {} : { create_user: 2 },
  errors: [],
  ...extra,
});
const PLAN = { operations: 2, byOperation: { create_user: 2 }, sample: [{ op: 'create_user', entity: 'user a A', wecomId: '(new)', changes: 'create "A"' }] };

function scripted(dry: RunOutcome, applied?: RunOutcome) {
  const runs: { dryRun: boolean; allowDeletes: boolean }[] = [];
  const runner: ReconcileRunner = {
    target: 'a scripted runner',
    async run(opts, onProgress) {
      runs.push(opts);
      onProgress({ phase: 'read', done: 1, total: 1 });
      if (opts.dryRun) return dry;
      return applied ?? expect.fail('applied without being asked to');
    },
  };
  return { runner, runs };
}

function io(answer: boolean) {
  const lines: string[] = [];
  const questions: string[] = [];
  const progress: ReconcileProgressUpdate[] = [];
  const value: FirstImportIo = {
    out: (l) => lines.push(l),
    progress: (p) => progress.push(p),
    endProgress: () => undefined,
    confirm: async (q) => {
      questions.push(q);
      return answer;
    },
  };
  return { value, lines, questions, progress, text: () => lines.join('\n') };
}

describe('the conversation', () => {
  it('dry run, plan, question, apply: exit 0 and the counts', async () => {
    const { runner, runs } = scripted({ report: report('success', true), plan: PLAN }, { report: report('success', false) });
    const out = io(true);
    expect(await firstImport(runner, out.value, { yes: false, allowDeletes: false })).toBe(0);
    expect(runs).toEqual([
      { dryRun: true, allowDeletes: false },
      { dryRun: false, allowDeletes: false },
    ]);
    expect(out.questions).toEqual(['2. apply these 2 operations to WeCom? [y/N] ']);
    expect(out.text()).toContain('plan: 2 operations (create_user 2)\n  create_user    user a A → (new)  create "A"');
    expect(out.text()).toContain('status: success — create_user 2');
    expect(out.progress).toHaveLength(2);
  });

  it('declined: nothing applied, exit 1; --yes applies without asking', async () => {
    const declined = scripted({ report: report('success', true), plan: PLAN });
    const out = io(false);
    expect(await firstImport(declined.runner, out.value, { yes: false, allowDeletes: false })).toBe(1);
    expect(declined.runs).toHaveLength(1);
    expect(out.text()).toContain('not applied: nothing was written');
    // npm takes a flag before `--` as its own configuration: the hint names one that reaches the script.
    expect(out.text()).toContain('npm run first-import -- --yes');

    const yes = scripted(
      { report: report('success', true), plan: PLAN },
      { report: report('partial', false, { errors: [{ kind: 'user', id: 'b', op: 'create_user', errcode: 60104, message: 'mobile taken' }] }) },
    );
    const quiet = io(false);
    expect(await firstImport(yes.runner, quiet.value, { yes: true, allowDeletes: true })).toBe(0);
    expect(quiet.questions).toEqual([]);
    expect(yes.runs.map((r) => r.allowDeletes)).toEqual([true, true]);
    expect(quiet.text()).toContain('  create_user user b: 60104 mobile taken');
  });

  it('a failed or blocked dry run stops before asking, saying what to do', async () => {
    const failed = io(true);
    expect(
      await firstImport(scripted({ report: report('failed', true, { message: 'could not read the directories: 60020' }) }).runner, failed.value, {
        yes: true,
        allowDeletes: false,
      }),
    ).toBe(1);
    expect(failed.text()).toMatch(/the dry run failed: could not read the directories: 60020\nnpm run doctor names most causes/);

    const blocked = io(true);
    expect(
      await firstImport(scripted({ report: report('blocked', true, { message: 'would delete 40%' }), plan: PLAN }).runner, blocked.value, {
        yes: true,
        allowDeletes: false,
      }),
    ).toBe(1);
    expect(blocked.text()).toContain('npm run first-import -- --allow-deletes');
  });

  it('an apply that failed or found another run exits 1 with what to do', async () => {
    for (const [status, says] of [
      ['failed', 'fix what the message names'],
      ['locked', 'another reconcile was running'],
    ] as const) {
      const out = io(true);
      expect(
        await firstImport(scripted({ report: report('success', true), plan: PLAN }, { report: report(status, false) }).runner, out.value, {
          yes: true,
          allowDeletes: false,
        }),
      ).toBe(1);
      expect(out.text()).toContain(says);
    }
  });
});

describe('the stage runner', () => {
  let aws: Awaited<ReturnType<typeof localAwsServers>>;
  let service: LocalService;

  beforeAll(async () => {
    aws = await localAwsServers();
    service = await composeLocalService({}, { sandbox: true, simulators: { wecom: { rateLimitPerMinute: null } }, logger: createMemoryLogger() });
    // A previous run's progress: never shown as this run's.
    await new ReconcileProgressItem('state', aws.dynamodb).put({ phase: 'apply', done: 99, total: 99, startedAt: 1, updatedAt: 2 });
  });
  afterAll(async () => {
    await service.close();
    await aws.close();
  });

  /** Stage "test": its reconcile function answered by `lambda`, its table and queue the local servers. */
  const stageWith = (lambda: ReturnType<typeof fakeClient>) =>
    new StageInspector('test', {
      region: 'ap-southeast-1',
      lambda,
      cloudformation: fakeClient({}),
      ssm: fakeClient({}),
      eventbridge: fakeClient({}),
      sqs: aws.sqs,
      dynamodb: aws.dynamodb,
    });

  it('invokes the reconcile function for the dry run and the apply, and shows the progress the apply writes', async () => {
    const seen: ReconcileProgressUpdate[] = [];
    const events: unknown[] = [];
    const lambda = fakeClient({
      // The reconcile function, as handlers/reconcile.ts runs it: progress to the table while applying.
      InvokeCommand: async (input) => {
        expect(input.FunctionName).toBe('dingtalk-wecom-sync-test-reconcile');
        const event = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as { dryRun?: boolean; allowDeletes?: boolean };
        events.push(event);
        const item = new ReconcileProgressItem('state', aws.dynamodb);
        const onProgress = event.dryRun ? undefined : progressWriter(item, Date.now(), 0);
        const { report: r, plan } = await runReconcile(service.reconcileDeps(service.queue), { dryRun: event.dryRun === true, onProgress });
        // Answer only once the command has shown a progress update (bounded wait, no timing assumed).
        for (let i = 0; i < 500 && !event.dryRun && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ ...r, plan: plan && summarisePlan(plan.ops) })) };
      },
    });
    const inspector = stageWith(lambda);
    const out = io(true);
    out.value.progress = (p) => seen.push(p);
    const code = await firstImport(new StageReconcileRunner(inspector, 'state', 5), out.value, { yes: true, allowDeletes: false });
    expect(out.text()).toContain('first import through dingtalk-wecom-sync-test-reconcile (ap-southeast-1)');
    expect(out.text()).toContain('plan: 6 operations (create_dept 3, create_user 3)');
    expect(out.text()).toContain('status: success — create_dept 3, create_user 3');
    expect(code).toBe(0);
    expect(events).toEqual([{ dryRun: true }, { allowDeletes: false }]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.done !== 99)).toBe(true);
    expect(service.sims!.wecom.listUsers()).toHaveLength(3);
  });

  it('a reconcile function that fails is an error naming it', async () => {
    const lambda = fakeClient({
      InvokeCommand: () => ({
        FunctionError: 'Unhandled',
        Payload: new TextEncoder().encode(JSON.stringify({ errorType: 'ConfigError', errorMessage: 'configuration: WECOM_CORP_ID is not set' })),
      }),
    });
    const inspector = stageWith(lambda);
    await expect(new StageReconcileRunner(inspector, 'state').run({ dryRun: true, allowDeletes: false }, () => undefined)).rejects.toThrow(
      'dingtalk-wecom-sync-test-reconcile failed: ConfigError: configuration: WECOM_CORP_ID is not set',
    );
  });
});
