import { format } from 'node:util'; // allowed: platform may use node builtins

export function createLogger(): { info(message: string): void } {
  return { info: (message) => { process.stdout.write(format('%s\n', message)); } };
}
