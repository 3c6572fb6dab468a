import { redact } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogProps = Record<string, unknown>;

/**
 * The app's one logging interface. Domain code takes a Logger as a parameter; triggers build one
 * from their InvocationContext. Every line is redacted before it leaves.
 */
export interface Logger {
  debug(message: string, props?: LogProps): void;
  info(message: string, props?: LogProps): void;
  warn(message: string, props?: LogProps): void;
  error(message: string, props?: LogProps): void;
  /**
   * A named operational event, e.g. `SnapshotRunFailed`. Written as one line starting with
   * `event=<name>` so the Application Insights alert query can match it (see infra).
   */
  event(name: OperationalEvent, props?: LogProps): void;
}

/** Event names alerts and dashboards depend on; renaming one breaks the infra's alert query. */
export type OperationalEvent =
  | 'SnapshotRunStarted'
  | 'SnapshotRunSucceeded'
  | 'SnapshotRunPartial'
  | 'SnapshotRunFailed'
  | 'RefreshTokenRejected'
  | 'RefreshTokenRotated'
  | 'RefreshTokenPersistFailed'
  | 'CustomerSnapshotFailed'
  | 'RetentionCompleted'
  | 'ConfigurationInvalid';

export type LogSink = (level: LogLevel, line: string) => void;

export function formatLine(message: string, props?: LogProps): string {
  if (!props || Object.keys(props).length === 0) return redact(message);
  return redact(`${message} ${safeJson(props)}`);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Error
        ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code }
        : typeof v === 'bigint'
          ? v.toString()
          : v,
    );
  } catch {
    return '[unserialisable]';
  }
}

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info'): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const enabled = (level: LogLevel) => order.indexOf(level) >= order.indexOf(minLevel);
  const write = (level: LogLevel, message: string, props?: LogProps) => {
    if (enabled(level)) sink(level, formatLine(message, props));
  };
  return {
    debug: (m, p) => write('debug', m, p),
    info: (m, p) => write('info', m, p),
    warn: (m, p) => write('warn', m, p),
    error: (m, p) => write('error', m, p),
    event: (name, props) =>
      write(
        name.endsWith('Failed') || name === 'RefreshTokenRejected' || name === 'ConfigurationInvalid'
          ? 'error'
          : 'info',
        `event=${name}`,
        props,
      ),
  };
}

/** Logger writing to an Azure Functions InvocationContext (its lines reach Application Insights). */
export function contextLogger(context: {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}): Logger {
  return createLogger((level, line) => context[level](line), 'debug');
}

/** Logger for command-line tools and the local host. */
export function consoleLogger(minLevel: LogLevel = 'info'): Logger {
  return createLogger(
    (level, line) =>
      level === 'error' || level === 'warn' ? console.error(line) : process.stdout.write(`${line}\n`),
    minLevel,
  );
}

/** Logger that keeps its lines, for tests that assert on what was (or was not) logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger((level, line) => lines.push(`${level}: ${line}`), 'debug'),
    { lines },
  );
}
