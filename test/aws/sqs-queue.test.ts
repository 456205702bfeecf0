/**
 * The SQS adapter against a real SQS-compatible server (local-aws-sqs, JSON protocol) started in
 * this process. local-aws-sqs does not lock FIFO groups and forgets dedup ids after delete, so
 * these tests read with WaitTimeSeconds 0 and do not delete between duplicate sends.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqsChangeQueue } from '../../lib/aws/sqs-queue';
import { loadCallbackConfig } from '../../lib/config';
import { signedRequest } from '../../lib/dingtalk/push';
import { createCallbackHandler } from '../../lib/dingtalk/receiver';
import { decodeMessage, deduplicationId } from '../../lib/messages';
import { QueueRejectedError, type ChangeMessage } from '../../lib/ports';
import { callbackEvent } from '../support/http-api-event';

let server: Server;
let client: SQSClient;
let queueUrl: string;
let n = 0;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const { port } = server.address() as AddressInfo;
  client = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(async () => {
  n++;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `changes-dlq-${n}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const q = await client.send(
    new CreateQueueCommand({
      QueueName: `changes-${n}.fifo`,
      Attributes: { FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
    }),
  );
  queueUrl = q.QueueUrl!;
});

async function receiveAll(): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageSystemAttributeNames: ['All'], AttributeNames: ['All'] }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
  }
}

const message = (id: string, kind: 'user' | 'dept' = 'user'): ChangeMessage => ({ kind, id, eventType: 'user_modify_org', eventTime: 1700000000000, corpId: 'dingcorp' });

const creds = { token: 'sqstesttoken', aesKey: 'Zq8mN3vR7tY1uI5oP9aS2dF6gH0jK4lX8cV3bN7mQ1w', ownerKey: 'dingsqsapp' };

function signedEvent(plaintext: string): APIGatewayProxyEventV2 {
  const { query, body } = signedRequest(plaintext, creds, '1700000000000', 'nonce123');
  return callbackEvent(query, body);
}

function receiver(queue: SqsChangeQueue) {
  const config = loadCallbackConfig({ DINGTALK_TOKEN: creds.token, DINGTALK_AES_KEY: creds.aesKey, DINGTALK_OWNER_KEY: creds.ownerKey, CALLBACK_MAX_SKEW_SECONDS: '0' });
  return createCallbackHandler({ config, queue });
}

describe('SqsChangeQueue against local-aws-sqs', () => {
  it('sends each message with its entity group, a deterministic dedup id and a versioned body', async () => {
    await new SqsChangeQueue({ queueUrl, client }).enqueue([message('zhangsan'), message('42', 'dept')]);
    const got = await receiveAll();
    expect(got.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual(['dept:42', 'user:zhangsan']);
    const user = got.find((m) => m.Attributes?.MessageGroupId === 'user:zhangsan')!;
    expect(user.Attributes?.MessageDeduplicationId).toBe(deduplicationId(message('zhangsan')));
    expect(JSON.parse(user.Body!).v).toBe(1);
    expect(decodeMessage(user.Body!)).toEqual(message('zhangsan'));
  });

  it('turns an event with 25 user ids into 25 messages (three SendMessageBatch calls)', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `u${i}`);
    const res = await receiver(new SqsChangeQueue({ queueUrl, client }))(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ids, TimeStamp: '1700000000000' })));
    expect(res.statusCode).toBe(200);
    const got = await receiveAll();
    expect(got.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual(ids.map((id) => `user:${id}`).sort());
  });

  it('drops DingTalk’s retry of the same push (same event → same dedup ids)', async () => {
    const handler = receiver(new SqsChangeQueue({ queueUrl, client }));
    const plaintext = JSON.stringify({ EventType: 'user_modify_org', CorpId: 'c', UserId: ['zhangsan', 'lisi'], TimeStamp: '1700000000000' });
    expect((await handler(signedEvent(plaintext))).statusCode).toBe(200);
    expect((await handler(signedEvent(plaintext))).statusCode).toBe(200);
    expect(await receiveAll()).toHaveLength(2);
  });

  it('answers 503 with no success when the queue refuses the send', async () => {
    const queue = new SqsChangeQueue({ queueUrl: queueUrl.replace(/changes-\d+\.fifo$/, 'missing.fifo'), client, backoffMs: 1 });
    await expect(queue.enqueue([message('zhangsan')])).rejects.toBeInstanceOf(QueueRejectedError);
    const res = await receiver(queue)(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a'] })));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('encrypt');
  });

  it('answers 503 when a 200 answer still lists failed entries that keep failing', async () => {
    const flaky = new FailingEntriesClient(client, Infinity);
    const queue = new SqsChangeQueue({ queueUrl, client: flaky as unknown as SQSClient, backoffMs: 1 });
    const res = await receiver(queue)(signedEvent(JSON.stringify({ EventType: 'user_add_org', CorpId: 'c', UserId: ['a', 'b', 'c'] })));
    expect(res.statusCode).toBe(503);
    await expect(queue.enqueue([message('x'), message('y')])).rejects.toMatchObject({ rejected: 1, accepted: 1 });
    expect(flaky.attempts).toBeGreaterThan(2); // it did retry
  });

  it('retries only the failed entries and succeeds when they are accepted on the retry', async () => {
    const flaky = new FailingEntriesClient(client, 1);
    const queue = new SqsChangeQueue({ queueUrl, client: flaky as unknown as SQSClient, backoffMs: 1 });
    await queue.enqueue([message('x'), message('y'), message('z')]);
    const got = await receiveAll();
    expect(got.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual(['user:x', 'user:y', 'user:z']);
    expect(flaky.sentEntries).toEqual([3, 1]);
  });
});

/**
 * Behaves as SQS documents for a partly failed SendMessageBatch: HTTP 200, the first entry in
 * `Failed` (InternalError, not a sender fault), the rest really sent to the server.
 */
class FailingEntriesClient {
  attempts = 0;
  sentEntries: number[] = [];
  constructor(
    private readonly real: SQSClient,
    private failuresLeft: number,
  ) {}

  async send(command: { input: { QueueUrl: string; Entries: { Id: string }[] } }) {
    this.attempts++;
    const entries = command.input.Entries;
    this.sentEntries.push(entries.length);
    if (this.failuresLeft <= 0) return this.real.send(command as never);
    this.failuresLeft--;
    const [first, ...rest] = entries;
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    const out = rest.length ? await this.real.send(new SendMessageBatchCommand({ QueueUrl: command.input.QueueUrl, Entries: rest as never })) : { Successful: [] };
    return { Successful: out.Successful ?? [], Failed: [{ Id: first!.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' }] };
  }
}
