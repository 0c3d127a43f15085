import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A loopback server speaking just enough of the PostgreSQL protocol (v3) for a client to sign in
 * without a password and have every query answered with one row of `columns`, all text: it stands
 * in for a server no test machine has (an old version). `silent` accepts connections and never
 * answers, like a server that hangs or a firewall that swallows packets.
 */
export async function startFakePostgresServer(options: { columns: Record<string, string> } | { silent: true }): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if ('silent' in options) return;
    const columns = options.columns;
    let buffered = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        // The startup message alone has no type byte.
        const header = started ? 5 : 4;
        if (buffered.length < header) return;
        const length = buffered.readInt32BE(started ? 1 : 0);
        const total = (started ? 1 : 0) + length;
        if (buffered.length < total) return;
        const type = started ? String.fromCharCode(buffered[0] ?? 0) : 'startup';
        buffered = buffered.subarray(total);
        if (type === 'startup') {
          started = true;
          socket.write(Buffer.concat([message('R', int32(0)), message('K', Buffer.concat([int32(4242), int32(1)])), message('Z', Buffer.from('I'))]));
        } else if (type === 'Q') {
          socket.write(Buffer.concat([rowDescription(Object.keys(columns)), dataRow(Object.values(columns)), message('C', text('SELECT 1')), message('Z', Buffer.from('I'))]));
        } else if (type === 'X') {
          socket.end();
          return;
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://postgres@127.0.0.1:${String(port)}/orderstream`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
    },
  };
}

function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}

function rowDescription(names: readonly string[]): Buffer {
  // Each field: name, table oid, column number, type oid (25: text), type size, type modifier, format (0: text).
  const fields = names.map((name) => Buffer.concat([text(name), int32(0), int16(0), int32(25), int16(-1), int32(-1), int16(0)]));
  return message('T', Buffer.concat([int16(names.length), ...fields]));
}

function dataRow(values: readonly string[]): Buffer {
  return message('D', Buffer.concat([int16(values.length), ...values.flatMap((value) => [int32(Buffer.byteLength(value)), Buffer.from(value)])]));
}

function text(value: string): Buffer {
  return Buffer.concat([Buffer.from(value), Buffer.from([0])]);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}
