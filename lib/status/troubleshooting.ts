/**
 * The troubleshooting table: what an operator sees, what it means, what to do. The README's
 * "Troubleshooting" table is this table, rendered (a test checks that they agree), and the status
 * report gives each open permanent failure the "what to do" of the row its errcode names.
 *
 * Errcodes of both platforms meet here. Only DingTalk's 50002/50004 and WeCom's permanent data
 * errors are ever recorded on an entity: configuration errcodes (WeCom's 60011, 60020, 48002…)
 * are retried and end in the dead-letter queue, so the rows naming them are for logs, not failures.
 */
import { DINGTALK_ERR } from '../dingtalk/errors';
import { WECOM_ERR } from '../wecom/errors';

export interface TroubleshootingRow {
  see: string;
  meaning: string;
  todo: string;
  /** Errcodes recorded on an entity that this row explains. */
  errcodes?: readonly number[];
}

/** The row for a failure no other row explains (a mapping refusal carries no errcode). */
const UNEXPLAINED: TroubleshootingRow = {
  see: 'a permanent failure with no errcode, or one not listed here',
  meaning: 'the DingTalk data could not be mapped (the error names the field), or WeCom refused it for a reason of its own (the error quotes WeCom)',
  todo: 'correct the person or department in DingTalk; its next change, or the next reconcile, writes it again',
};

export const TROUBLESHOOTING: readonly TroubleshootingRow[] = [
  {
    see: '`callback rejected` with `reason: owner_key_mismatch`',
    meaning: "the callback's trailer is not `DINGTALK_OWNER_KEY` (the log names both)",
    todo: 'set it to the AppKey (console subscription), the CorpId (`register_call_back`) or the suiteKey',
  },
  {
    see: '`callback rejected` with `bad_signature` / `stale_timestamp`',
    meaning: 'wrong `DINGTALK_TOKEN`, or a replayed/old request',
    todo: "copy the token from the app's event subscription page; check clocks",
  },
  {
    see: '`errcode 60020` … `from ip: x.x.x.x`',
    meaning: "WeCom does not trust the worker's egress IP",
    todo: "add the stack output `WeComTrustedIp` (the IP in the message) to WeCom's 企业可信IP",
  },
  {
    see: '`errcode 48002` / `60011` on WeCom writes',
    meaning: 'not the contact-sync secret',
    todo: "use 管理工具 → 通讯录同步's secret as `WECOM_CONTACT_SECRET`",
  },
  {
    see: '`errcode 50002` / `50004` recorded for a person or department',
    meaning: "outside the DingTalk app's visible range",
    todo: "widen the app's contact scope; nothing in WeCom was changed",
    errcodes: [DINGTALK_ERR.userOutOfScope, DINGTALK_ERR.deptOutOfScope],
  },
  {
    see: 'DLQ alarm',
    meaning: 'changes failed 5 times (usually one of the above)',
    todo: 'fix the cause, then `npm run redrive`',
  },
  {
    see: 'reconcile alarm',
    meaning: 'a reconcile run crashed or logged an error: could not read the directories, stopped on a configuration error, or blocked (below)',
    todo: "the reconcile's log says which; fix it, and the next scheduled run (or one invoked by hand) repairs the drift",
  },
  {
    see: '`sent back as a new message` (sync log, `throttledRequeued` in `batch done`)',
    meaning: "a change was still throttled when its invocation's time ran out; it will be synced from the copy",
    todo: 'nothing, unless it is frequent: then something else calls with the same DingTalk app or WeCom company, or lower `syncMaxConcurrency`',
  },
  {
    see: '`errcode 60104` / `60106` recorded for a person',
    meaning: 'another WeCom member already has this mobile / email',
    todo: 'find who holds it in WeCom: a leaver the sync disabled gives it up by itself; otherwise change it in DingTalk or on the other member',
    errcodes: [WECOM_ERR.mobileExists, WECOM_ERR.emailExists],
  },
  {
    see: '`errcode 60129` recorded for a person',
    meaning: 'the person has neither a mobile nor an email WeCom accepts',
    todo: "give the person a mobile or email in DingTalk, or grant the app DingTalk's 手机号码 / personal-information permission",
    errcodes: [WECOM_ERR.mobileAndEmailEmpty],
  },
  {
    see: '`errcode 60103` / `60105` / `60112` recorded for a person',
    meaning: 'WeCom refuses the mobile, email or name as DingTalk holds it',
    todo: 'correct it in DingTalk; the next change syncs it',
    errcodes: [WECOM_ERR.badMobile, WECOM_ERR.badEmail, WECOM_ERR.badName],
  },
  {
    see: '`errcode 60102` recorded for a person',
    meaning: "WeCom has a member with this userid spelled differently (WeCom ignores case), or another DingTalk user's",
    todo: 'rename one of the two in DingTalk; the sync never adopts a member that is not exactly this userid',
    errcodes: [WECOM_ERR.useridExists],
  },
  {
    see: '`errcode 60008` / `60009` / `60125` / `81002` recorded for a department',
    meaning: 'a sibling already has the name, the name holds characters WeCom refuses, or the tree is deeper than 15 levels',
    todo: 'rename or move the department in DingTalk',
    errcodes: [WECOM_ERR.deptExists, WECOM_ERR.deptNameIllegalChars, WECOM_ERR.badDeptName, WECOM_ERR.tooDeep],
  },
  {
    see: '`errcode 60005` / `60006`, or reconcile count `blocked_dept`',
    meaning: 'WeCom will not delete a department that still holds members or departments the sync does not own',
    todo: 'move them out in WeCom (an administrator); the next reconcile deletes the department',
    errcodes: [WECOM_ERR.deptHasMembers, WECOM_ERR.deptHasChildren],
  },
  UNEXPLAINED,
  {
    see: 'reconcile status `blocked`',
    meaning: 'it would disable/delete more than `SYNC_MAX_DELETE_RATIO` of what it owns',
    todo: 'check scope and app permissions; if intended, invoke with `{"allowDeletes":true}`',
  },
  {
    see: 'alarm `dead-letters` (DLQ not empty)',
    meaning: 'changes failed 5 times (usually one of the above)',
    todo: 'fix the cause, then `npm run redrive`',
  },
  {
    see: 'alarm `permanent-failures`',
    meaning: 'WeCom refused a write for good in the last hour',
    todo: '`npm run status -- --stage <stage>` lists them with the fix; `npm run history -- --user <id>` tells the story',
  },
  {
    see: 'alarm `callback-rejections`',
    meaning: 'many pushes refused for `bad_signature` / `owner_key_mismatch`: a token or key changed on one side only, or someone probing the URL',
    todo: "run the saved query *rejected callbacks*: from DingTalk's published push addresses, fix `DINGTALK_TOKEN` / `DINGTALK_OWNER_KEY` (see *Rotating the DingTalk token and AES key*); from elsewhere, nothing was accepted",
  },
  {
    see: 'alarm `callback-errors`',
    meaning: 'the callback answered 500/503: the queue refused, or it cannot start (SSM, a setting)',
    todo: '`npx sls logs -f callback` names the setting or the queue error; DingTalk retries, and the sweep recovers what it then lists as failed',
  },
  {
    see: 'alarm `reconcile`',
    meaning: 'a reconcile run failed, was blocked by the deletion guard, or crashed',
    todo: '`npm run status` shows the last run and its reason; a crash is in `npx sls logs -f reconcile`',
  },
  {
    see: 'alarm `propagation`',
    meaning: 'the slowest changes take longer than the threshold from DingTalk to WeCom',
    todo: 'check the queue and DLQ in `npm run status`, throttles on the dashboard, and the saved query *slowest propagations*',
  },
];

/** What to do about a failure recorded with `errcode` (none: a mapping refusal). */
export function fixHint(errcode: number | undefined): string {
  const row = errcode === undefined ? undefined : TROUBLESHOOTING.find((r) => r.errcodes?.includes(errcode));
  return (row ?? UNEXPLAINED).todo;
}

/** The table as the README shows it. */
export function troubleshootingMarkdown(): string {
  return ['| you see | meaning | what to do |', '|---|---|---|', ...TROUBLESHOOTING.map((r) => `| ${r.see} | ${r.meaning} | ${r.todo} |`)].join('\n');
}
