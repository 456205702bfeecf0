/**
 * The environment a fresh clone is tested in: the user's own, as a shell would have it — not the
 * one `npm test` gives this checkout. npm puts this checkout's node_modules/.bin first on PATH and
 * sets npm_* variables; a clone run with those could borrow tools it failed to install, or run
 * `npm ci` on this checkout's Node instead of the user's.
 */
import { delimiter } from 'node:path';

export function cloneEnvironment(checkout: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|INIT_CWD$|NODE$|NODE_OPTIONS$)/i.test(k)) continue;
    env[k] = v;
  }
  const outside = (dir: string) => dir !== '' && !dir.startsWith(checkout) && !/[\\/]node_modules[\\/]\.bin$/.test(dir);
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter(outside).join(delimiter);
  return { ...env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', ...extra };
}
