/**
 * A script run as `npm run <name>` runs it (Node with tsx), for the tests of what an operator's
 * shell meets: its exit code and what it printed, a failing exit included.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr. */
  out: string;
}

/** Runs `scripts/<name>.ts` with `args` and nothing in its environment but PATH and `env`. */
export async function runScript(name: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ScriptRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr, out: stdout + stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, out: failed.stdout + failed.stderr };
  }
}
