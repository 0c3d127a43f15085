import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * Watches the process's outgoing TCP connections while a test runs, so it can prove that none was
 * attempted, and keeps them on loopback should the code under test be wrong: a socket whose lookup
 * hands over any other address is destroyed before it connects.
 */
export function watchConnections(): { attempts: string[]; blocked: string[]; stop: () => void } {
  const attempts: string[] = [];
  const blocked: string[] = [];
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.on('lookup', (error: Error | null, address: string) => {
      if (error === null && !/^(127\.|::1$|::ffff:127\.)/.test(address)) {
        blocked.push(address);
        socket.destroy(new Error(`test guard: no connection to ${address}`));
      }
    });
    socket.on('connectionAttempt', (address: string) => { attempts.push(address); });
  };
  subscribe('net.client.socket', onSocket);
  return { attempts, blocked, stop: () => { unsubscribe('net.client.socket', onSocket); } };
}
