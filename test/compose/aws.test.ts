/**
 * The AWS composition fails before any work, naming the setting the stack did not provide.
 * (The composed service itself runs against dynalite and local-aws-sqs in
 * test/handlers/lambda-handlers.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStateStore } from '../../lib/aws/dynamo-store';
import { SqsChangeQueue } from '../../lib/aws/sqs-queue';
import { composeAwsService } from '../../lib/compose/aws';
import { ConfigError } from '../../lib/config';
import { createMemoryLogger } from '../../lib/log';

const credentials = { DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', WECOM_CORP_ID: 'c', WECOM_CONTACT_SECRET: 'w' };
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function withEnv(env: Record<string, string>): void {
  process.env = { ...saved, ...env };
  delete process.env.SECRETS_SSM_PATH;
  delete process.env.STATE_TABLE;
  delete process.env.QUEUE_URL;
  Object.assign(process.env, env);
}

describe('composeAwsService', () => {
  it('names STATE_TABLE when the stack did not set it', async () => {
    withEnv(credentials);
    await expect(composeAwsService(createMemoryLogger())).rejects.toMatchObject({ name: 'ConfigError', variable: 'STATE_TABLE' });
  });

  it('names the missing credential before touching any table', async () => {
    withEnv({ STATE_TABLE: 'state' });
    await expect(composeAwsService(createMemoryLogger())).rejects.toBeInstanceOf(ConfigError);
  });

  it('builds the DynamoDB store, and the SQS queue only when asked, naming QUEUE_URL if it is missing', async () => {
    withEnv({ ...credentials, STATE_TABLE: 'state' });
    const service = await composeAwsService(createMemoryLogger());
    expect(service.store).toBeInstanceOf(DynamoStateStore);
    expect(() => service.queue()).toThrow(expect.objectContaining({ variable: 'QUEUE_URL' }));
    withEnv({ ...credentials, STATE_TABLE: 'state', QUEUE_URL: 'https://sqs.example/q.fifo' });
    const withQueue = await composeAwsService(createMemoryLogger());
    expect(withQueue.queue()).toBeInstanceOf(SqsChangeQueue);
    expect(withQueue.queue()).toBe(withQueue.queue());
  });
});
