/**
 * Stand-ins for the AWS services that cannot run here (CloudFormation, Lambda, SSM, EventBridge):
 * a client whose `send` answers by command class name, through a handler per command. SQS and
 * DynamoDB are not faked: tests use local-aws-sqs and dynalite for them.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { stateTableDefinition } from '../../lib/aws/dynamo-store';

type Handler = (input: Record<string, unknown>) => unknown;

/** A client answering each command by its class name; an unexpected command fails the test loudly. */
export function fakeClient(handlers: Record<string, Handler>) {
  const calls: { command: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    async send(command: unknown) {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const name = c.constructor.name;
      calls.push({ command: name, input: c.input });
      const handle = handlers[name];
      if (!handle) throw new Error(`fake AWS client: unexpected ${name}`);
      return handle(c.input);
    },
  };
}

/** An error as the SDK throws it for a service exception. */
export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

const dynalite = createRequire(import.meta.url)('dynalite') as (o: { createTableMs?: number }) => Server;

/** dynalite and local-aws-sqs on loopback, with clients for them and a state table. */
export async function localAwsServers(tableName = 'state') {
  const dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`, credentials });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`, credentials });
  await dynamodb.send(new CreateTableCommand({ TableName: tableName, ...stateTableDefinition }));
  return {
    dynamodb,
    sqs,
    close: () => Promise.all([new Promise((r) => dynamo.close(r)), new Promise((r) => sqsServer.close(r))]).then(() => undefined),
  };
}
