import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../logging/logger.ts';

/** A real logger (same redaction, same mixin) writing into memory, with the text and the parsed lines it wrote. */
export function memoryLogger(level = 'trace'): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  let written = '';
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) { written += chunk.toString('utf8'); done(); } });
  return {
    logger: createLogger({ level, destination }),
    text: () => written,
    lines: () => written.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
