import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import { problemTypeBase, type Problem } from './problem.ts';

/**
 * fastify's `clientErrorHandler`: answers what Node's HTTP parser refuses before any request
 * exists (headers too large, a malformed request line, a request too slow to arrive) with
 * problem+json written on the socket itself, under a new request id that is also sent as
 * `x-request-id` and logged, so the client's report can be matched with the server's log.
 */
export function createClientErrorHandler(options: {
  logger: Logger;
  /** Sent with the answer as with every other response (the security headers). */
  headers?: Readonly<Record<string, string>>;
}): (error: ConnectionError, socket: Socket) => void {
  const { logger } = options;
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const requestId = randomUUID();
    const problem = parserProblem(error.code, requestId);
    logger.info({ requestId, code: error.code, statusCode: problem.status }, 'request refused by the HTTP parser');
    // As Node's own handler does: bytes written after a response began on this connection would corrupt it.
    if (socket.writable && !responseStarted(socket)) socket.write(rawResponse(problem, { ...options.headers, 'x-request-id': requestId }));
    socket.destroy(error);
  };
}

function parserProblem(code: string, requestId: string): Problem {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        type: `${problemTypeBase}headers-too-large`, title: 'The request headers are too large', status: 431,
        detail: 'The request line and headers together are larger than this server accepts.', requestId,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        type: `${problemTypeBase}chunk-extensions-too-large`, title: 'The chunk extensions are too large', status: 413,
        detail: 'The chunk extensions of the body are larger than this server accepts.', requestId,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        type: `${problemTypeBase}request-timeout`, title: 'The request took too long to arrive', status: 408,
        detail: 'The request was not received in full within the time this server waits.', requestId,
      };
    default:
      return {
        type: `${problemTypeBase}malformed-request`, title: 'The request is not valid HTTP', status: 400,
        detail: 'The request could not be parsed as HTTP/1.1.', requestId,
      };
  }
}

/** Whether a response already began on this connection (the field Node's own handler reads). */
function responseStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  return inFlight?.headersSent === true;
}

function rawResponse(problem: Problem, headers: Readonly<Record<string, string>>): string {
  const body = JSON.stringify(problem);
  const head = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
    'connection: close',
    'content-type: application/problem+json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
