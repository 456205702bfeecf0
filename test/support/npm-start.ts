/**
 * `npm start` as a real child process (`lib/local/main.ts`), for the tests that run the Quick
 * start as a user does: started with no credentials, and ready once what it prints matches.
 */
import { spawn } from 'node:child_process';

export interface NpmStart {
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  stop(): void;
}

/** Starts it with `env` (PORT 0 and warn-level logs unless set) and resolves once its output matches `ready`. */
export async function startNpmStart(ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<NpmStart> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ...env },
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
