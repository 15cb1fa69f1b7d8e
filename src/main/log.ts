// Structured JSON logs on stderr, shaped like etcd's zap output ({"level","ts","msg",...}); cheap when a level is off.
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

export type { Logger };

/** etcd's panic and fatal map onto pino's fatal. */
const PINO_LEVEL: Record<LogLevel, pino.Level> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  panic: 'fatal',
  fatal: 'fatal',
};

export function createLogger(level: LogLevel, bindings: Record<string, string> = {}): Logger {
  return pino(
    {
      level: PINO_LEVEL[level],
      base: bindings,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
