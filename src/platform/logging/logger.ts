import { pino, type Logger, type DestinationStream } from 'pino';
import { currentContext } from './request-context.ts';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line. */
const redactedPaths = [
  'password', '*.password', 'token', '*.token', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'databaseUrl', '*.databaseUrl',
];

/** JSON logger whose every line carries the request id (and other work ids) of the work that wrote it. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'orderstream' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ ...currentContext() }),
    },
    options.destination,
  );
}
