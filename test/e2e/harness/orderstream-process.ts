import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../../..');

/** A free TCP port on loopback, so a process can be restarted on the same address. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    // Below Linux's ephemeral range (32768 and up): a port chosen by the kernel for an outgoing
    // connection (to Kafka, PostgreSQL…) can then never take it between now and the child's listen.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found between 20000 and 32000');
}

const handedOut = new Set<number>();

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening'); // rejects with the 'error' (EADDRINUSE) when the port is taken
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/** `orderstream start` as a child process, with its JSON log lines kept for assertions. */
export class OrderStreamProcess {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Every JSON log line written so far, across restarts. */
  readonly lines: Record<string, unknown>[] = [];
  #child: ChildProcess | undefined;
  #errors = '';

  constructor(name: string, args: readonly string[], env: Readonly<Record<string, string>>) {
    this.name = name;
    this.args = args;
    this.env = env;
  }

  /** Starts it and resolves once it logs that it listens. */
  async start(timeoutMs = 30_000): Promise<void> {
    // Processes of one test share the host: each gets a free operations port unless the test chose one.
    const child = spawn(process.execPath, ['src/cli.ts', 'start', ...this.args], {
      cwd: projectRoot, env: { ...process.env, OPS_PORT: '0', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => { this.#errors += chunk.toString('utf8'); });
    const deadline = Date.now() + timeoutMs;
    const from = this.lines.length;
    while (!this.lines.slice(from).some((line) => typeof line.msg === 'string' && line.msg.includes('is listening'))) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited (${child.exitCode}) before listening: ${this.#errors}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not listen within ${timeoutMs} ms: ${this.#errors}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends it with `signal` (SIGKILL: no chance to finish anything) and waits until it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (child?.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** Log lines whose message contains `text`. */
  logged(text: string): Record<string, unknown>[] {
    return this.lines.filter((line) => typeof line.msg === 'string' && line.msg.includes(text));
  }
}
