/**
 * Loaded into the single shape's OrderStream process by the benchmark (`node --import`), and only
 * there: answers the harness (bench/orderstream-probe.ts) over the IPC channel, recording or
 * counting the statements the process's `pg` clients send and watching its memory — what the
 * harness did itself when OrderStream ran inside it. Idle until asked; what it uses (and so `pg`)
 * is imported at the first request, once the application has loaded `pg` itself, so that tracing,
 * when configured, still instruments `pg` first.
 */
import type { ProbeAnswer, ProbeRequest } from './orderstream-probe.ts';

type Probed = Awaited<ReturnType<typeof loadProbed>>;

let probed: Probed | undefined;
let capture: InstanceType<Probed['StatementCapture']> | undefined;
let counter: InstanceType<Probed['StatementCounter']> | undefined;
let memoryPeak: InstanceType<Probed['MemoryPeak']> | undefined;

async function loadProbed() {
  const [{ StatementCapture, StatementCounter }, { MemoryPeak, breakdownOf }] = await Promise.all([import('./statement-capture.ts'), import('./document-jobs.ts')]);
  return { StatementCapture, StatementCounter, MemoryPeak, breakdownOf };
}

async function answer(request: ProbeRequest): Promise<ProbeAnswer> {
  const { id } = request;
  probed ??= await loadProbed();
  switch (request.action) {
    case 'start-capture':
      if (capture !== undefined) throw new Error('a statement capture is already running');
      capture = new probed.StatementCapture({ ignoredApplication: request.ignoredApplication });
      capture.start();
      return { id };
    case 'stop-capture': {
      if (capture === undefined) throw new Error('no statement capture is running');
      const units = capture.stop();
      capture = undefined;
      return { id, units };
    }
    case 'start-counting':
      if (counter !== undefined) throw new Error('statements are already being counted');
      counter = new probed.StatementCounter({ ignoredApplication: request.ignoredApplication });
      counter.start();
      return { id };
    case 'read-count':
      if (counter === undefined) throw new Error('no statements are being counted');
      return { id, count: counter.read() };
    case 'stop-counting':
      counter?.stop();
      counter = undefined;
      return { id };
    case 'start-memory': {
      if (memoryPeak !== undefined) throw new Error('memory is already being watched');
      const atStart = probed.breakdownOf(process.memoryUsage());
      memoryPeak = new probed.MemoryPeak();
      memoryPeak.start();
      return { id, memory: atStart };
    }
    case 'stop-memory': {
      if (memoryPeak === undefined) throw new Error('no memory is being watched');
      const atPeak = memoryPeak.stop();
      memoryPeak = undefined;
      return { id, memory: atPeak };
    }
  }
}

// Started without an IPC channel (not by the benchmark), there is no one to answer.
if (process.send !== undefined) {
  process.on('message', (request: ProbeRequest) => {
    // A failed send (the harness gone) is dropped: without a callback it would be thrown here.
    void answer(request).catch((error: unknown) => ({ id: request.id, error: error instanceof Error ? error.message : String(error) }))
      .then((answered) => { process.send?.(answered, undefined, {}, () => undefined); });
  });
  // The channel must not keep the process alive: it ends on SIGTERM as the one a user starts does.
  process.channel?.unref();
}
