/**
 * `npm start` as a real child process (`lib/local/main.ts`), for the tests that run the Quick
 * start as a user does: started with no credentials, and ready once what it prints matches.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NpmStart {
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  stop(): void;
}

/**
 * Starts it with `env` (PORT 0, warn-level logs and a state file of its own unless set) and
 * resolves once its output matches `ready`. The default state file, `.data/npm-start.json` in the
 * repository, would be shared by every test file that starts one.
 */
export async function startNpmStart(ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<NpmStart> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', STATE_FILE: join(mkdtempSync(join(tmpdir(), 'npm-start-')), 'state.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (ready.test(output)) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`npm start exited: ${output}`));
      }
    }, 50);
  });
  return { output: () => output, stop: () => child.kill('SIGTERM') };
}
