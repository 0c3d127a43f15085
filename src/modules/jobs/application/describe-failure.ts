/**
 * A failure as a short line kept on the job; never a stack trace. A NUL a message may quote from the
 * file is written as `\0`: PostgreSQL would refuse to store the line, and the job would stay running.
 */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replaceAll('\u0000', '\\0').slice(0, 1000);
}
