import { createConnection, createServer } from 'node:net';

/** Small network helpers on loopback: free ports and whether something answers. */

/** `preferred` when it is free on loopback and not already planned, else a port the system picks. */
export async function pickPort(preferred: number, taken: Set<number>): Promise<number> {
  let port = !taken.has(preferred) && preferred > 0 && await portIsFree(preferred) ? preferred : 0;
  while (port === 0 || taken.has(port)) port = await systemPort();
  taken.add(port);
  return port;
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

function systemPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
    });
  });
}

/** The status code of GET http://127.0.0.1:`port``path`, or undefined without an answer in time. */
export async function httpStatus(port: number, urlPath: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

export function tcpReachable(hostPort: string, timeoutMs: number): Promise<boolean> {
  const separator = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, separator);
  const port = Number(hostPort.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const done = (reachable: boolean) => { socket.destroy(); resolve(reachable); };
    socket.once('connect', () => { done(true); });
    socket.once('timeout', () => { done(false); });
    socket.once('error', () => { done(false); });
  });
}
