/**
 * The SQS adapter against a real SQS-compatible server (local-aws-sqs, JSON protocol) started in
 * this process. local-aws-sqs does not lock FIFO groups and forgets dedup ids after delete, so
 * these tests read with WaitTimeSeconds 0 and never delete between duplicate sends.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsChangeQueue } from '../../lib/aws/sqs-queue';
import { loadCallbackConfig } from '../../lib/config';
import { decodeAesKey, decryptMessage } from '../../lib/dingtalk/crypto';
import { signedRequest } from '../../lib/dingtalk/push';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { createMemoryLogger } from '../../lib/log';
import { decodeMessage, deduplicationId, messageGroupId } from '../../lib/messages';
import { type ChangeMessage, QueueRejectedError } from '../../lib/ports';
import { trailFromAttributes } from '../../lib/trail/attributes';
import { callbackEvent } from '../support/http-api-event';

let server: Server;
let endpoint: string;
let client: SQSClient;
let queueUrl: string;
let dlqUrl: string;
let n = 0;

const clientConfig = () => ({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new SQSClient(clientConfig());
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// A fresh FIFO queue (and FIFO dead-letter queue) per test, as serverless.yml declares them.
beforeEach(async () => {
  n++;
  dlqUrl = (await client.send(new CreateQueueCommand({ QueueName: `changes-dlq-${n}.fifo`, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const q = await client.send(
    new CreateQueueCommand({
      QueueName: `changes-${n}.fifo`,
      Attributes: { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
    }),
  );
  queueUrl = q.QueueUrl!;
});

async function receiveAll(url = queueUrl): Promise<Message[]> {
  const out: Message[] = [];
  // Both names: AWS reads MessageSystemAttributeNames; local-aws-sqs only the older AttributeNames.
  for (;;) {
    const r = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
  }
}

const groupsOf = (messages: Message[]) => messages.map((m) => m.Attributes?.MessageGroupId).sort();

const change = (id: string, kind: 'user' | 'dept' = 'user'): ChangeMessage => ({
  kind,
  id,
  eventType: 'user_modify_org',
  eventTime: 1700000000000,
  corpId: 'dingcorp',
});

const creds = { token: 'sqstesttoken', aesKey: 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w', ownerKey: 'dingsqsapp' };

function signedEvent(plaintext: string, timestamp = '1700000000000', nonce = 'nonce123'): APIGatewayProxyEventV2 {
  const { query, body } = signedRequest(plaintext, creds, timestamp, nonce);
  return callbackEvent(query, body);
}

function receiver(queue: SqsChangeQueue) {
  const config = loadCallbackConfig({
    DINGTALK_TOKEN: creds.token,
    DINGTALK_AES_KEY: creds.aesKey,
    DINGTALK_OWNER_KEY: creds.ownerKey,
    CALLBACK_MAX_SKEW_SECONDS: '0',
  });
  const logger = createMemoryLogger();
  return Object.assign(createCallbackHandler({ config, queue, logger }), { logger });
}

function expectSuccess(res: { statusCode?: number; body?: string }) {
  expect(res.statusCode).toBe(200);
  const reply = JSON.parse(res.body!) as { encrypt: string };
  expect(decryptMessage(reply.encrypt, decodeAesKey(creds.aesKey), creds.ownerKey)).toBe('success');
}

function expectNotAcknowledged(res: { statusCode?: number; body?: string }) {
  expect(res.statusCode).toBe(503);
  expect(res.body).not.toMatch(/success|encrypt/);
}

/** A real client that counts the SendMessageBatch requests it makes and the entries in each. */
function countingClient() {
  const c = new SQSClient(clientConfig());
  const batches: SendMessageBatchRequestEntry[][] = [];
  c.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand') batches.push((args.input as { Entries: SendMessageBatchRequestEntry[] }).Entries);
      return next(args);
    },
    { step: 'initialize' },
  );
  return { client: c, batches };
}

describe('each change becomes one deduplicated message in its entity’s FIFO group', () => {
  it('carries the change’s trail as message attributes, and none for a change without one', async () => {
    const trail = { correlationId: 'c0ffee', source: 'failed_push_sweep' as const, runId: 'run-1' };
    await new SqsChangeQueue({ queueUrl, client }).enqueue([{ ...change('zhangsan'), trail }, change('lisi')]);
    const got = [];
    for (;;) {
      const r = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
      );
      if (!r.Messages?.length) break;
      got.push(...r.Messages);
    }
    const byId = new Map(got.map((m) => [decodeMessage(m.Body!).id, m]));
    expect(trailFromAttributes(byId.get('zhangsan')!.MessageAttributes)).toEqual(trail);
    expect(trailFromAttributes(byId.get('lisi')!.MessageAttributes)).toBeUndefined();
  });

  it('sends each message with its entity group, a deterministic dedup id and a decodable body', async () => {
    await new SqsChangeQueue({ queueUrl, client }).enqueue([change('zhangsan'), change('42', 'dept')]);
    const got = await receiveAll();
    expect(groupsOf(got)).toEqual(['dept:42', 'user:zhangsan']);
    for (const m of got) {
      const decoded = decodeMessage(m.Body!);
      expect(m.Attributes?.MessageGroupId).toBe(messageGroupId(decoded));
      expect(m.Attributes?.MessageDeduplicationId).toBe(deduplicationId(decoded));
    }
    expect(decodeMessage(got.find((m) => m.Attributes?.MessageGroupId === 'user:zhangsan')!.Body!)).toEqual(change('zhangsan'));
  });

  it('accepts user ids SQS would refuse as group ids (non-ASCII, spaces, very long)', async () => {
    const ids = ['员工1', 'a b', '张'.repeat(64)];
    await new SqsChangeQueue({ queueUrl, client }).enqueue(ids.map((id) => change(id)));
    const got = await receiveAll();
    expect(got.map((m) => decodeMessage(m.Body!).id).sort()).toEqual([...ids].sort());
    expect(groupsOf(got)).toContain('user:%E5%91%98%E5%B7%A51');
    expect(got.every((m) => m.Attributes!.MessageGroupId!.length <= 128)).toBe(true);
  });

  it('sends nothing, and succeeds, for no messages', async () => {
    const { client: counted, batches } = countingClient();
    await new SqsChangeQueue({ queueUrl, client: counted }).enqueue([]);
    expect(batches).toHaveLength(0);
  });

  it('turns an event with 25 user ids into 25 messages, in batches of at most 10 with unique entry ids', async () => {
    const { client: counted, batches } = countingClient();
    const ids = Array.from({ length: 25 }, (_, i) => `u${i}`);
    const handler = receiver(new SqsChangeQueue({ queueUrl, client: counted }));
    expectSuccess(await handler(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ids, TimeStamp: '1700000000000' }))));
    expect(batches.map((b) => b.length).sort((a, b) => a - b)).toEqual([5, 10, 10]);
    for (const b of batches) expect(new Set(b.map((e) => e.Id)).size).toBe(b.length);
    const got = await receiveAll();
    expect(got.map((m) => decodeMessage(m.Body!).id).sort()).toEqual([...ids].sort());
    expect(groupsOf(got)).toEqual(ids.map((id) => `user:${id}`).sort());
    expect(handler.logger.entries).toEqual([expect.objectContaining({ message: 'callback accepted', messages: 25 })]);
  });

  it('drops DingTalk’s retries of the same push: re-posted as is, or re-encrypted with a new nonce', async () => {
    const handler = receiver(new SqsChangeQueue({ queueUrl, client }));
    const plaintext = JSON.stringify({ EventType: 'user_modify_org', CorpId: 'c', UserId: ['zhangsan', 'lisi'], TimeStamp: '1700000000000' });
    const first = signedEvent(plaintext);
    expectSuccess(await handler(first));
    expectSuccess(await handler(first));
    expectSuccess(await handler(signedEvent(plaintext, '1700000010000', 'retry002')));
    expect(groupsOf(await receiveAll())).toEqual(['user:lisi', 'user:zhangsan']);
  });
});

describe('what SQS does not accept fails the enqueue, after brief retries of what may still pass', () => {
  it('a standard (non-FIFO) queue fails every entry in a 200 answer: QueueRejectedError, not retried, 503', async () => {
    // A real per-entry failure: MessageDeduplicationId is only valid on FIFO queues, so the
    // server answers HTTP 200 with each entry under `Failed` (InvalidParameterValue, sender fault),
    // exactly the case a caller that only checks the HTTP status would take for success.
    const standardUrl = (await client.send(new CreateQueueCommand({ QueueName: `standard-${n}` }))).QueueUrl!;
    const { client: counted, batches } = countingClient();
    const queue = new SqsChangeQueue({ queueUrl: standardUrl, client: counted, backoffMs: 1 });

    const err = await queue.enqueue([change('zhangsan'), change('lisi')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueRejectedError);
    expect(err).toMatchObject({ accepted: 0, rejected: 2 });
    expect((err as Error).message).toContain('InvalidParameterValue (sender fault)');
    expect(batches).toHaveLength(1); // a sender fault fails the same way again: no retry

    const handler = receiver(queue);
    expectNotAcknowledged(await handler(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a'] }))));
    expect(handler.logger.entries).toEqual([
      expect.objectContaining({ level: 'error', eventType: 'user_add_org', messages: 1, error: expect.stringContaining('InvalidParameterValue') }),
    ]);
    expect(await receiveAll(standardUrl)).toHaveLength(0);
  });

  it('a queue that does not exist makes the whole call fail: QueueRejectedError and 503', async () => {
    const queue = new SqsChangeQueue({ queueUrl: `${endpoint}/123456789012/missing.fifo`, client, backoffMs: 1 });
    const err = await queue.enqueue([change('zhangsan')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueRejectedError);
    expect(err).toMatchObject({ accepted: 0, rejected: 1 });
    expect((err as Error).message).toContain('SendMessageBatch failed: QueueDoesNotExist');
    expectNotAcknowledged(await receiver(queue)(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a'] }))));
  });

  it('entries that keep failing after the retries: 503, and the error counts what was accepted', async () => {
    const flaky = new FailingEntriesClient(client, Infinity);
    const queue = new SqsChangeQueue({ queueUrl, client: flaky.asSqsClient(), backoffMs: 1 });
    expectNotAcknowledged(await receiver(queue)(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a', 'b', 'c'] }))));
    // First send: 3 entries, the first failed; then two retries of that one entry alone.
    expect(flaky.sent).toEqual([['0', '1', '2'], ['0'], ['0']]);

    const err = await queue.enqueue(Array.from({ length: 25 }, (_, i) => change(`x${i}`))).catch((e: unknown) => e);
    // One entry per batch of 10 keeps failing: 3 rejected, 22 accepted.
    expect(err).toMatchObject({ name: 'QueueRejectedError', accepted: 22, rejected: 3 });
    expect((err as Error).message).toContain('InternalError');
  });

  it('sends a failing entry `attempts` times in all, waiting backoffMs and then twice that between sends', async () => {
    const once = new FailingEntriesClient(client, Infinity);
    await expect(new SqsChangeQueue({ queueUrl, client: once.asSqsClient(), attempts: 1 }).enqueue([change('x')])).rejects.toThrow(QueueRejectedError);
    expect(once.sent).toEqual([['0']]);

    const flaky = new FailingEntriesClient(client, Infinity);
    const started = performance.now();
    const err = await new SqsChangeQueue({ queueUrl, client: flaky.asSqsClient(), attempts: 3, backoffMs: 40 }).enqueue([change('x')]).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40 + 80 - 5);
    expect(flaky.sent).toEqual([['0'], ['0'], ['0']]);
    expect(err).toMatchObject({ name: 'QueueRejectedError', accepted: 0, rejected: 1 });
  });

  it('a failed entry that succeeds on the retry is accepted, and only it is sent again', async () => {
    const flaky = new FailingEntriesClient(client, 1);
    const handler = receiver(new SqsChangeQueue({ queueUrl, client: flaky.asSqsClient(), backoffMs: 1 }));
    expectSuccess(await handler(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['x', 'y', 'z'] }))));
    expect(flaky.sent).toEqual([['0', '1', '2'], ['0']]);
    expect(groupsOf(await receiveAll())).toEqual(['user:x', 'user:y', 'user:z']);
  });

  it('an entry in neither list is not taken as accepted: it is sent again', async () => {
    const flaky = new FailingEntriesClient(client, 1, 'omit');
    await new SqsChangeQueue({ queueUrl, client: flaky.asSqsClient(), backoffMs: 1 }).enqueue([change('x'), change('y')]);
    expect(flaky.sent).toEqual([['0', '1'], ['0']]);
    expect(groupsOf(await receiveAll())).toEqual(['user:x', 'user:y']);
  });
});

/**
 * Answers as SQS documents for a partly failed SendMessageBatch: HTTP 200 with the first entry
 * under `Failed` (InternalError, not a sender fault; or, with 'omit', in neither list) while the
 * other entries really go to the server. After `failures` such answers it passes requests through.
 */
class FailingEntriesClient {
  /** The entry ids of every SendMessageBatch request, in order. */
  readonly sent: string[][] = [];

  constructor(
    private readonly real: SQSClient,
    private failures: number,
    private readonly mode: 'fail' | 'omit' = 'fail',
  ) {}

  asSqsClient(): SQSClient {
    return this as unknown as SQSClient;
  }

  async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
    const { QueueUrl, Entries = [] } = command.input;
    this.sent.push(Entries.map((e) => e.Id!));
    if (this.failures <= 0) return this.real.send(command);
    this.failures--;
    const [first, ...rest] = Entries;
    const out = rest.length > 0 ? await this.real.send(new SendMessageBatchCommand({ QueueUrl, Entries: rest })) : undefined;
    return {
      $metadata: { httpStatusCode: 200 },
      Successful: out?.Successful ?? [],
      Failed: this.mode === 'fail' ? [{ Id: first!.Id!, Code: 'InternalError', SenderFault: false, Message: 'try again' }] : [],
    };
  }
}
