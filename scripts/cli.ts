/**
 * What the command-line scripts share: one way to stop with a message, to parse options, and to
 * turn a configuration error into one line naming the variable (never a stack trace).
 */
import { ConfigError } from '../lib/config';

export interface Cli {
  /** Prints `<name>: <message>` on stderr and exits with the script's failure code. */
  fail(message: string): never;
  /** The parsed options, or the parser's complaint and the usage. */
  parseOrFail<T>(parse: () => T): T;
  /** The loaded configuration, or the ConfigError's line (plus `hint`). */
  configOrFail<T>(load: () => T | Promise<T>, hint?: string): Promise<T>;
}

export function cli(name: string, usage: string, exitCode: number): Cli {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(exitCode);
  };
  return {
    fail,
    parseOrFail(parse) {
      try {
        return parse();
      } catch (e) {
        return fail(`${(e as Error).message}\n${usage}`);
      }
    },
    async configOrFail(load, hint = '') {
      try {
        return await load();
      } catch (e) {
        if (e instanceof ConfigError) return fail(`${e.message}${hint}`);
        throw e;
      }
    },
  };
}
