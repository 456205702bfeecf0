/**
 * What the doctor reports: one result per item it checked, each saying what it saw and, when it
 * is not right, what to do. Plain JSON, so the doctor Lambda can return results and `--json` can
 * print them as they are. Pure.
 *
 * - `pass` ✔ and `fail` ✗: a ✗ makes `npm run doctor` exit non-zero.
 * - `note` –: worth knowing, nothing is broken (no first import yet, the schedule switched off,
 *   no email in the sample): it says what to run or check, and does not fail the doctor.
 * - `skip` –: could not be checked because something it depends on failed (named in `detail`).
 */

export type CheckStatus = 'pass' | 'fail' | 'note' | 'skip';

export type CheckGroup = 'settings' | 'dingtalk' | 'wecom' | 'callback' | 'queue';

export interface CheckResult {
  /** Stable name for machines (`--json`) and tests, e.g. `dingtalk.scope.1`. */
  id: string;
  group: CheckGroup;
  /** What was checked, in a few words. */
  title: string;
  status: CheckStatus;
  /** What the doctor saw. Never a secret. */
  detail: string;
  /** What to do about a ✗ (or a note): a console path, a command, a setting. */
  fix?: string;
}

export interface DoctorReport {
  /** What was checked: `stage prod`, `the environment`, `npm start (sandbox) at http://…`. */
  target: string;
  checks: CheckResult[];
  /** False when any check failed. */
  ok: boolean;
}

type Fields = Omit<CheckResult, 'status' | 'group' | 'id' | 'title'>;

/** Result builders for one check. */
export function check(group: CheckGroup, id: string, title: string) {
  const make = (status: CheckStatus, fields: Fields): CheckResult => ({ id: `${group}.${id}`, group, title, status, ...fields });
  return {
    pass: (detail: string) => make('pass', { detail }),
    fail: (detail: string, fix: string) => make('fail', { detail, fix }),
    note: (detail: string, fix?: string) => make('note', fix === undefined ? { detail } : { detail, fix }),
    skip: (detail: string) => make('skip', { detail }),
  };
}

export function doctorReport(target: string, checks: CheckResult[]): DoctorReport {
  return { target, checks, ok: checks.every((c) => c.status !== 'fail') };
}

/** A thrown value as one line (no stack). */
export function errorLine(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
