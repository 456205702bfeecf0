/**
 * Secrets in AWS live in SSM Parameter Store (SecureString) under the function's own path
 * (SECRETS_SSM_PATH: `…/callback` for the callback, `…/worker` for sync and reconcile, so each
 * role can read only what its function needs), each parameter named after the variable it sets
 * (`<path>/DINGTALK_TOKEN`, `<path>/WECOM_CONTACT_SECRET`, …). They are
 * read once per Lambda container, at first use, and layered under the process environment:
 * a variable already set in the environment wins (the local fallback, and an escape hatch).
 */
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';

type Env = Record<string, string | undefined>;

const NAME = /^[A-Z][A-Z0-9_]*$/;

let cached: Promise<Env> | undefined;

/**
 * Returns `env` merged over the parameters found under `path` (when `path` is set). Cached for
 * the life of the container; a failure is not cached, so the next invocation tries again.
 */
export function environmentWithSecrets(env: Env = process.env, client?: SSMClient): Promise<Env> {
  const path = env.SECRETS_SSM_PATH;
  if (!path) return Promise.resolve(env);
  cached ??= readPath(path, client ?? new SSMClient({})).then(
    (secrets) => ({ ...secrets, ...definedOnly(env) }),
    (err: unknown) => {
      cached = undefined;
      const reason = err instanceof Error ? err.name : 'unknown error';
      throw new Error(
        `configuration: could not read secrets under SSM path ${path} (${reason}); check SECRETS_SSM_PATH, the function's ssm:GetParametersByPath permission and, with a customer-managed key, its kms:Decrypt`,
      );
    },
  );
  return cached;
}

async function readPath(path: string, client: SSMClient): Promise<Env> {
  const out: Env = {};
  let NextToken: string | undefined;
  do {
    const page = await client.send(new GetParametersByPathCommand({ Path: path, WithDecryption: true, Recursive: false, NextToken }));
    for (const p of page.Parameters ?? []) {
      const name = p.Name?.slice(p.Name.lastIndexOf('/') + 1);
      if (name && NAME.test(name) && p.Value !== undefined) out[name] = p.Value;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

function definedOnly(env: Env): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** Forget the cached secrets: for tests, and for the doctor function, which must read them as they are now. */
export function resetSecretsCache(): void {
  cached = undefined;
}
