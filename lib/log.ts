/**
 * A tiny structured logger: one JSON line per entry, which CloudWatch Logs Insights can query.
 * Written by hand rather than taking Powertools Logger so the callback's cold start stays small;
 * the call shape (`logger.info(message, fields)`) matches Powertools' so it can be swapped in.
 *
 * Never pass secrets, tokens, AES keys or decrypted plaintext of a rejected request as fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(service: string, opts: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    write(JSON.stringify({ level, time: new Date().toISOString(), service, message, ...fields }));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that keeps entries in memory: for tests that assert what was (not) logged. */
export function createMemoryLogger(): Logger & { entries: ({ level: LogLevel; message: string } & LogFields)[] } {
  const entries: ({ level: LogLevel; message: string } & LogFields)[] = [];
  const push = (level: LogLevel) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, ...fields });
  };
  return { entries, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}
