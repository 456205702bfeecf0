/** The queue and reconcile checks, from the facts a target gathered. Pure. */
import { describe, expect, it } from 'vitest';
import { type DeploymentStatus, deploymentChecks } from '../../lib/doctor/deployment-checks';
import type { RunReport } from '../../lib/ports';

const base: DeploymentStatus = {
  deadLetters: 0,
  redriveHint: 'npm run redrive',
  schedule: { state: 'enabled', expression: 'rate(1 day)' },
  latestReport: undefined,
  firstImportCommand: 'npm run first-import -- --stage prod',
};
const report = (status: RunReport['status'], extra: Partial<RunReport> = {}): RunReport => ({
  runId: 'r',
  startedAt: 0,
  finishedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  status,
  dryRun: false,
  counts: { create_user: 3 },
  errors: [],
  ...extra,
});
const byId = (s: Partial<DeploymentStatus>) => Object.fromEntries(deploymentChecks({ ...base, ...s }).map((c) => [c.id, c]));

describe('deployment checks', () => {
  it('a quiet, imported stage passes; the report is named with its time and counts', () => {
    const c = byId({ latestReport: report('success') });
    expect(Object.values(c).map((x) => x.status)).toEqual(['pass', 'pass', 'pass']);
    expect(c['queue.first-import']!.detail).toBe('last reconcile 2026-01-02T03:04:05.000Z: success (create_user 3)');
  });

  it('no first import yet: a note with the command, not a ✗ (the doctor runs before the import)', () => {
    expect(byId({})['queue.first-import']).toMatchObject({ status: 'note', fix: 'run the first import: npm run first-import -- --stage prod' });
  });

  it('each reconcile ending', () => {
    expect(
      byId({ latestReport: report('partial', { errors: [{ kind: 'user', id: 'a', op: 'create_user', message: 'x' }] }) })['queue.first-import'],
    ).toMatchObject({
      status: 'note',
      detail: expect.stringContaining('1 entities failed'),
    });
    expect(byId({ latestReport: report('blocked', { message: 'would delete 50%' }) })['queue.first-import']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('npm run first-import -- --stage prod --allow-deletes'),
    });
    expect(byId({ latestReport: report('locked') })['queue.first-import']!.status).toBe('note');
  });

  it('the schedule: disabled is a note, missing a ✗, local a note; dead letters a ✗ with the redrive', () => {
    expect(byId({ schedule: { state: 'disabled' } })['queue.schedule']!.status).toBe('note');
    expect(byId({ schedule: { state: 'missing' } })['queue.schedule']!.status).toBe('fail');
    expect(byId({ schedule: { state: 'local' } })['queue.schedule']!.status).toBe('note');
    expect(byId({ deadLetters: 1 })['queue.dead-letters']).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^1 change message failed/),
      fix: expect.stringContaining('npm run redrive'),
    });
  });

  it('a fact that could not be read is a ✗ naming the error', () => {
    const denied = Object.assign(new Error('not authorized to perform sqs:GetQueueAttributes'), { name: 'AccessDenied' });
    expect(byId({ deadLetters: denied })['queue.dead-letters']).toMatchObject({
      status: 'fail',
      detail: 'could not read the dead-letter queue: AccessDenied: not authorized to perform sqs:GetQueueAttributes',
    });
    expect(byId({ schedule: denied })['queue.schedule']!.status).toBe('fail');
    expect(byId({ latestReport: denied })['queue.first-import']!.status).toBe('fail');
  });
});
