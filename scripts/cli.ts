/**
 * What the command-line scripts share: one way to stop with a message, to parse options, and to
 * turn a configuration error into one line naming the variable (never a stack trace).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../lib/config';

type Options = NonNullable<ParseArgsConfig['options']>;
/** What `parseArgs` gives for these options. */
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O }>>['values'];

export interface Cli {
  /** Prints `<name>: <message>` on stderr and exits with the script's failure code. */
  fail(message: string): never;
  /** The parsed options, or the parser's complaint and the usage. */
  parseOrFail<T>(parse: () => T): T;
  /**
   * `parseArgs` of these options plus `--help`, through `parseOrFail`; undefined once `--help`
   * has printed the usage (the script then has nothing to do).
   */
  optionsOrHelp<O extends Options>(options: O): Values<O> | undefined;
  /** The loaded configuration, or the ConfigError's line (plus `hint`). */
  configOrFail<T>(load: () => T | Promise<T>, hint?: string): Promise<T>;
}

export function cli(name: string, usage: string, exitCode: number): Cli {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(exitCode);
  };
  const parseOrFail = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      return fail(`${(e as Error).message}\n${usage}`);
    }
  };
  return {
    fail,
    parseOrFail,
    optionsOrHelp(options) {
      const values: Record<string, unknown> = parseOrFail(() => parseArgs({ options: { ...options, help: { type: 'boolean' } } }).values);
      if (values.help === true) {
        process.stdout.write(`${usage}\n`);
        return undefined;
      }
      return values as Values<typeof options>;
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
