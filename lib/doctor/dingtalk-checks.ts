/**
 * The doctor's DingTalk checks, through the same read client the sync uses: the app credentials
 * (gettoken), the contact scope (each SYNC_ROOT_DEPT_IDS department readable; 50004 names the
 * department), the field permissions (a sample of people: without 手机号码信息 DingTalk simply
 * leaves `mobile` out), and the callback's owner key against the AppKey or CorpId in use.
 *
 * Only reads, and never the failed-push list: reading it empties it.
 */
import { DINGTALK_ERR, describeDingTalkConfigError } from '../dingtalk/errors';
import { isPlatformError, type PlatformError } from '../errors';
import type { DingTalkDirectory, DingTalkUser } from '../ports';
import { type CheckResult, check, errorLine } from './check';

/** People sampled for the field permissions: enough to see a pattern, few calls. */
const SAMPLE_SIZE = 20;
/** Departments visited while sampling, so an organisation of empty departments ends quickly. */
const MAX_SAMPLED_DEPTS = 15;

/** The console page where the app's API permissions are granted (its name varies; this is what to look for). */
const PERMISSIONS_PAGE = "the app's permission page in the DingTalk developer console (open.dingtalk.com → the app)";

export interface DingTalkCheckInput {
  dingtalk: Pick<DingTalkDirectory, 'getDept' | 'listSubDepts' | 'listUsers'>;
  rootDeptIds: readonly number[];
  /** Where DingTalk's API is, for the message when nothing answers. */
  apiBase: string;
}

const credentials = check('dingtalk', 'credentials', 'DingTalk app credentials (gettoken)');
const fields = (name: string) => check('dingtalk', `fields.${name}`, `DingTalk field permission: ${name}`);

export async function dingtalkChecks(input: DingTalkCheckInput): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const visible: number[] = [];
  let first = true;
  for (const id of input.rootDeptIds) {
    const scope = check('dingtalk', `scope.${id}`, `department ${id} visible to the app (SYNC_ROOT_DEPT_IDS)`);
    try {
      const dept = await input.dingtalk.getDept(id);
      if (first) out.push(credentials.pass('gettoken accepted DINGTALK_APP_KEY and DINGTALK_APP_SECRET'));
      out.push(scope.pass(`department ${id} “${dept.name}” can be read`));
      visible.push(id);
    } catch (e) {
      if (first && isPlatformError(e) && e.api === 'gettoken') {
        out.push(credentials.fail(`gettoken failed: ${e.message}`, tokenFix(e, input.apiBase)));
        return [...out, ...['scope', 'fields'].map((s) => check('dingtalk', s, `DingTalk ${s}`).skip('needs working DingTalk credentials'))];
      }
      if (first) out.push(credentials.pass('gettoken accepted DINGTALK_APP_KEY and DINGTALK_APP_SECRET'));
      out.push(scopeFailure(scope, id, e));
    }
    first = false;
  }
  out.push(...(await fieldChecks(input, visible)));
  return out;
}

function tokenFix(e: PlatformError, apiBase: string): string {
  if (e.errcode === -1 || (e.errcode >= 500 && e.errcode <= 599))
    return `nothing usable answered at ${apiBase}: check DINGTALK_API_BASE and this network's access to it`;
  return describeDingTalkConfigError(e.errcode) ?? "copy the AppKey and AppSecret from the app's credentials page in the DingTalk developer console";
}

function scopeFailure(scope: ReturnType<typeof check>, id: number, e: unknown): CheckResult {
  if (isPlatformError(e, DINGTALK_ERR.deptOutOfScope)) {
    return scope.fail(
      `department ${id} is outside the app's contact scope (errcode 50004): nothing in it would be synced`,
      `in the DingTalk developer console, set the app's contact scope (通讯录权限范围) to all employees or to include department ${id}; or take ${id} out of SYNC_ROOT_DEPT_IDS`,
    );
  }
  if (isPlatformError(e, DINGTALK_ERR.deptNotFound)) {
    return scope.fail(`department ${id} does not exist in DingTalk (errcode 60003)`, `correct SYNC_ROOT_DEPT_IDS: ${id} is not a DingTalk department id`);
  }
  if (isPlatformError(e) && (e.errcode === DINGTALK_ERR.noContactPermission || e.errcode === DINGTALK_ERR.authException)) {
    return scope.fail(`department ${id} cannot be read: ${e.message}`, `grant 通讯录部门信息读权限 on ${PERMISSIONS_PAGE}`);
  }
  const fix = isPlatformError(e) ? describeDingTalkConfigError(e.errcode) : undefined;
  return scope.fail(`department ${id} cannot be read: ${errorLine(e)}`, fix ?? 'run the doctor again; if it persists, the message above names the cause');
}

/** Up to SAMPLE_SIZE people from the visible roots, breadth first: do they come with mobile and email? */
async function fieldChecks(input: DingTalkCheckInput, roots: number[]): Promise<CheckResult[]> {
  if (roots.length === 0) return [check('dingtalk', 'fields', 'DingTalk field permissions').skip('no configured department is visible')];
  const people = new Map<string, DingTalkUser>();
  const queue = [...roots];
  const visited = new Set<number>();
  try {
    while (queue.length > 0 && people.size < SAMPLE_SIZE && visited.size < MAX_SAMPLED_DEPTS) {
      const id = queue.shift()!;
      if (visited.has(id)) continue;
      visited.add(id);
      const page = await input.dingtalk.listUsers(id, 0, Math.min(100, SAMPLE_SIZE));
      for (const u of page.list) if (people.size < SAMPLE_SIZE) people.set(u.userid, u);
      if (people.size < SAMPLE_SIZE) queue.push(...(await input.dingtalk.listSubDepts(id)).map((d) => d.dept_id));
    }
  } catch (e) {
    const permission = isPlatformError(e) && (e.errcode === DINGTALK_ERR.noContactPermission || e.errcode === DINGTALK_ERR.authException);
    return [
      check('dingtalk', 'fields', 'DingTalk member lists').fail(
        `listing members failed: ${errorLine(e)}`,
        permission
          ? `grant 通讯录部门成员读权限 and 成员信息读权限 on ${PERMISSIONS_PAGE}`
          : (isPlatformError(e) && describeDingTalkConfigError(e.errcode)) || 'run the doctor again; if it persists, the message above names the cause',
      ),
    ];
  }
  const n = people.size;
  if (n === 0) {
    return [
      check('dingtalk', 'fields', 'DingTalk field permissions').note(
        `no people found in the first ${visited.size} departments of the scope: mobile and email permissions not checked`,
      ),
    ];
  }
  const all = [...people.values()];
  const withMobile = all.filter((u) => u.mobile).length;
  const withEmail = all.filter((u) => u.email || u.org_email).length;
  return [
    withMobile > 0
      ? fields('mobile').pass(`${withMobile} of ${n} people sampled come with a mobile`)
      : fields('mobile').fail(
          `none of the ${n} people sampled comes with a mobile: DingTalk leaves it out when the app lacks the permission`,
          `grant 手机号码信息 on ${PERMISSIONS_PAGE}; WeCom needs a mobile or an email for every person (60129)`,
        ),
    withEmail > 0
      ? fields('email').pass(`${withEmail} of ${n} people sampled come with an email`)
      : fields('email').note(
          `none of the ${n} people sampled comes with an email (email or org_email)`,
          `if your people have emails in DingTalk, grant 邮箱等个人信息 on ${PERMISSIONS_PAGE}`,
        ),
  ];
}

export interface OwnerKeyInput {
  /** DINGTALK_OWNER_KEY as the callback uses it. */
  ownerKey: string;
  appKey: string;
  /** The company's CorpId, when the operator gave it (`--corp-id`): the owner key of `register_call_back`. */
  corpId?: string;
}

/**
 * DingTalk puts the AppKey (a console subscription) or the CorpId (`register_call_back`) at the
 * end of every encrypted push; the callback rejects any other. Nothing in the API tells the
 * CorpId, so a key that is not the AppKey passes only when the operator names the CorpId.
 */
export function ownerKeyCheck(input: OwnerKeyInput): CheckResult {
  const c = check('dingtalk', 'owner-key', 'callback owner key (DINGTALK_OWNER_KEY)');
  if (input.ownerKey === input.appKey) return c.pass('DINGTALK_OWNER_KEY is the AppKey: right for events subscribed in the developer console');
  if (input.corpId !== undefined && input.ownerKey === input.corpId) return c.pass('DINGTALK_OWNER_KEY is the CorpId given: right for register_call_back');
  return c.fail(
    `DINGTALK_OWNER_KEY is ${input.corpId === undefined ? 'not the AppKey (DINGTALK_APP_KEY)' : 'neither the AppKey (DINGTALK_APP_KEY) nor the CorpId given'}: every push would be rejected as owner_key_mismatch`,
    `set DINGTALK_OWNER_KEY to the AppKey for an event subscription made in the developer console (the usual case); if the subscription was registered with register_call_back, set it to the CorpId and run the doctor with --corp-id <CorpId>`,
  );
}
