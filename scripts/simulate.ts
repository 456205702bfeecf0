/**
 * `npm run simulate -- --url <url> [--event user_add_org --user <id> | --dept <id> | --check-url]`
 *
 * Signs and encrypts an event exactly as DingTalk does, from the DINGTALK_* settings, posts it,
 * and checks the reply the way DingTalk does: signature, decryption, and the word `success`.
 * Exit 0 only when DingTalk would count the push as delivered.
 */
import { loadCallbackConfig } from '../lib/config';
import { postSignedEvent } from '../lib/dingtalk/push';
import { type Cli, cli } from './cli';

const USAGE = `usage: npm run simulate -- --url <callback url> [--check-url | --event <EventType> (--user <id>[,<id>…] | --dept <id>[,<id>…])] [--corp-id <id>]
settings from the environment: DINGTALK_TOKEN, DINGTALK_AES_KEY, DINGTALK_OWNER_KEY (or DINGTALK_APP_KEY)`;

const command: Cli = cli('simulate', USAGE, 1);
const { configOrFail } = command;
// A declared function, so the compiler knows that code after a call to it does not run.
function fail(message: string): never {
  return command.fail(message);
}

async function main(): Promise<void> {
  const args = command.optionsOrHelp({
    url: { type: 'string' },
    event: { type: 'string' },
    user: { type: 'string', multiple: true },
    dept: { type: 'string', multiple: true },
    'check-url': { type: 'boolean' },
    'corp-id': { type: 'string' },
  });
  if (!args) return;
  if (!args.url) fail(`--url is required\n${USAGE}`);
  let url: URL;
  try {
    url = new URL(args.url);
  } catch {
    fail(`--url is not a valid URL: ${args.url}`);
  }

  const config = await configOrFail(() => loadCallbackConfig(process.env));

  const split = (values: string[] | undefined) =>
    (values ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  const users = split(args.user);
  const depts = split(args.dept);
  const corpId = args['corp-id'] ?? 'dingsimulated';
  let event: Record<string, unknown>;
  if (args['check-url']) {
    event = { EventType: 'check_url' };
  } else {
    if (users.length === 0 && depts.length === 0) fail(`give --check-url, or --user or --dept ids\n${USAGE}`);
    if (users.length > 0 && depts.length > 0) fail('give either --user or --dept ids, not both');
    const eventType = args.event ?? (users.length > 0 ? 'user_modify_org' : 'org_dept_modify');
    if (users.length > 0 && !eventType.startsWith('user_') && !eventType.startsWith('org_admin_')) fail(`${eventType} does not carry user ids`);
    if (depts.length > 0 && !eventType.startsWith('org_dept_')) fail(`${eventType} does not carry department ids`);
    if (depts.some((d) => !/^\d+$/.test(d))) fail('department ids are positive whole numbers');
    event = { EventType: eventType, CorpId: corpId, TimeStamp: String(Date.now()) };
    if (users.length > 0) event.UserId = users;
    else event.DeptId = depts.map(Number);
  }

  const result = await postSignedEvent(url.toString(), event, {
    token: config.token,
    aesKey: config.aesKey,
    ownerKey: config.ownerKey,
  });
  if (!result.delivered) fail(`${String(event.EventType)} to ${url.origin}${url.pathname}: not delivered: ${result.reason}`);
  process.stdout.write(
    `ok: ${String(event.EventType)} delivered to ${url.origin}${url.pathname}; the reply is signed, decrypts with the owner key and says "success" (HTTP ${result.status}, ${result.elapsedMs} ms)\n`,
  );
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
