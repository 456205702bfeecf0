/**
 * SSM is AWS itself and cannot run here: the stand-in answers GetParametersByPath exactly as the
 * API documents it (pages with NextToken, full parameter names, decrypted values).
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { environmentWithSecrets, resetSecretsCache } from '../../lib/aws/ssm-secrets';

function ssm(pages: { Name: string; Value: string }[][], failFirst = false) {
  const calls: unknown[] = [];
  let failed = false;
  const client = {
    async send(command: { input: { Path: string; NextToken?: string; WithDecryption?: boolean } }) {
      calls.push(command.input);
      if (failFirst && !failed) {
        failed = true;
        throw Object.assign(new Error('User is not authorized to perform ssm:GetParametersByPath'), { name: 'AccessDeniedException' });
      }
      const index = command.input.NextToken ? Number(command.input.NextToken) : 0;
      return { Parameters: pages[index], NextToken: index + 1 < pages.length ? String(index + 1) : undefined };
    },
  };
  return { client: client as unknown as SSMClient, calls };
}

beforeEach(() => resetSecretsCache());

describe('environmentWithSecrets', () => {
  it('reads every page under the path once, decrypted, and lets the environment win', async () => {
    const { client, calls } = ssm([
      [
        { Name: '/dws/prod/DINGTALK_TOKEN', Value: 'from-ssm' },
        { Name: '/dws/prod/WECOM_CONTACT_SECRET', Value: 's1' },
      ],
      [
        { Name: '/dws/prod/DINGTALK_AES_KEY', Value: 'k'.repeat(43) },
        { Name: '/dws/prod/lower-case', Value: 'ignored' },
      ],
    ]);
    const env = { SECRETS_SSM_PATH: '/dws/prod', DINGTALK_TOKEN: 'from-env' };
    const merged = await environmentWithSecrets(env, client);
    expect(merged).toMatchObject({ DINGTALK_TOKEN: 'from-env', WECOM_CONTACT_SECRET: 's1', DINGTALK_AES_KEY: 'k'.repeat(43) });
    expect(merged).not.toHaveProperty('lower-case');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ Path: '/dws/prod', WithDecryption: true });
    await environmentWithSecrets(env, client);
    expect(calls).toHaveLength(2); // cached for the container
  });

  it('returns the environment unchanged when no path is set', async () => {
    const env = { DINGTALK_TOKEN: 't' };
    expect(await environmentWithSecrets(env)).toBe(env);
  });

  it('fails with a line naming SECRETS_SSM_PATH, without values, and tries again next time', async () => {
    const { client, calls } = ssm([[{ Name: '/p/DINGTALK_TOKEN', Value: 'v' }]], true);
    await expect(environmentWithSecrets({ SECRETS_SSM_PATH: '/p' }, client)).rejects.toThrow(/SECRETS_SSM_PATH.*GetParametersByPath/);
    expect(await environmentWithSecrets({ SECRETS_SSM_PATH: '/p' }, client)).toMatchObject({ DINGTALK_TOKEN: 'v' });
    expect(calls).toHaveLength(2);
  });
});
