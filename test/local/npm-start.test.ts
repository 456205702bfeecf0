/**
 * The Quick start's `npm start` with no credentials: a real child process, the printed simulate
 * command's settings, a signed event over HTTP, and WeCom's state as the printed URL shows it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postSignedEvent } from '../../lib/dingtalk/push';
import { type NpmStart, startNpmStart } from '../support/npm-start';

let npmStart: NpmStart;

beforeAll(async () => {
  npmStart = await startNpmStart(/curl http:\/\/\S+/);
}, 60_000);

afterAll(() => npmStart?.stop());

it('prints a working simulate command and the URL that shows WeCom’s state', async () => {
  const command = /(DINGTALK_TOKEN=\S+) (DINGTALK_AES_KEY=\S+) (DINGTALK_OWNER_KEY=\S+) npm run simulate -- --url (\S+) --event user_add_org --user (\S+)/.exec(
    npmStart.output(),
  );
  if (!command) throw new Error(`npm start printed no simulate command:\n${npmStart.output()}`);
  const setting = (i: number) => command[i]!.split('=')[1]!;
  const stateUrl = /curl (\S+)/.exec(npmStart.output())![1]!;

  const before = (await (await fetch(stateUrl)).json()) as { users: { userid: string }[] };
  expect(before.users).toEqual([]);

  const push = await postSignedEvent(
    command[4]!,
    { EventType: 'user_add_org', CorpId: 'c', UserId: [command[5]], TimeStamp: String(Date.now()) },
    {
      token: setting(1),
      aesKey: setting(2),
      ownerKey: setting(3),
    },
  );
  expect(push).toMatchObject({ delivered: true, status: 200 });

  // The worker runs in the background of the same process: poll (bounded) until it has written.
  let users: { userid: string; name: string; enable: number }[] = [];
  for (let i = 0; i < 100 && users.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    users = ((await (await fetch(stateUrl)).json()) as { users: typeof users }).users;
  }
  expect(users).toEqual([expect.objectContaining({ userid: 'zhangsan', name: '张三', enable: 1 })]);
}, 60_000);
