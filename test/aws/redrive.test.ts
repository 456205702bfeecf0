import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redrive } from '../../lib/aws/redrive';
import { encodeMessage } from '../../lib/messages';
import { trailFromAttributes } from '../../lib/trail/attributes';

let server: Server;
let client: SQSClient;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  client = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it('moves every readable message back with its entity group, and leaves unreadable ones in the DLQ', async () => {
  const queue = (await client.send(new CreateQueueCommand({ QueueName: 'q.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const dlq = (await client.send(new CreateQueueCommand({ QueueName: 'dlq.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  for (let i = 0; i < 23; i++) {
    const body = encodeMessage({ kind: 'user', id: `u${i}`, eventType: 'user_modify_org', eventTime: i, corpId: 'c' });
    await client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: body, MessageGroupId: `user:u${i}`, MessageDeduplicationId: `d${i}` }));
  }
  await client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'garbage', MessageGroupId: 'x', MessageDeduplicationId: 'garbage' }));

  expect(await redrive(client, dlq, queue)).toEqual({ moved: 23, unreadable: 1, failed: 0 });
  const back: string[] = [];
  for (;;) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
    if (!r.Messages?.length) break;
    back.push(...r.Messages.map((m) => m.Attributes!.MessageGroupId!));
  }
  expect(back.sort()).toEqual(Array.from({ length: 23 }, (_, i) => `user:u${i}`).sort());
});

it('keeps each message’s trail (its correlation id) when moving it back', async () => {
  const queue = (await client.send(new CreateQueueCommand({ QueueName: 'q2.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const dlq = (await client.send(new CreateQueueCommand({ QueueName: 'dlq2.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const body = encodeMessage({ kind: 'user', id: 'zhangsan', eventType: 'user_modify_org', eventTime: 1, corpId: 'c' });
  const MessageAttributes = {
    correlationId: { DataType: 'String', StringValue: 'c0ffee' },
    triggerSource: { DataType: 'String', StringValue: 'push' },
  };
  await client.send(
    new SendMessageCommand({ QueueUrl: dlq, MessageBody: body, MessageAttributes, MessageGroupId: 'user:zhangsan', MessageDeduplicationId: 'd' }),
  );
  expect(await redrive(client, dlq, queue)).toEqual({ moved: 1, unreadable: 0, failed: 0 });
  const r = await client.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
  expect(trailFromAttributes(r.Messages![0]!.MessageAttributes)).toEqual({ correlationId: 'c0ffee', source: 'push' });
});
