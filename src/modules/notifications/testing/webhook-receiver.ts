import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/** How the receiver answers one request: a status code, or never (to provoke a timeout). */
export type ReceiverAnswer = number | 'hang';

/**
 * A webhook receiver on a free loopback port: records each request and answers with the next
 * scripted answer, then with `otherwise` (200 unless told).
 */
export async function startWebhookReceiver(options: { script?: ReceiverAnswer[]; otherwise?: ReceiverAnswer } = {}): Promise<{
  url: string;
  received: ReceivedWebhook[];
  /** Changes how requests are answered once the script has run out. */
  answerWith: (answer: ReceiverAnswer) => void;
  close: () => Promise<void>;
}> {
  const script = [...(options.script ?? [])];
  let otherwise = options.otherwise ?? 200;
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      const answer = script.shift() ?? otherwise;
      // A redirect points back at the receiver, so a client that follows it shows up as a second request.
      if (answer !== 'hang') response.writeHead(answer, answer >= 300 && answer < 400 ? { location: '/moved' } : {}).end();
    });
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => { resolve((server.address() as AddressInfo).port); });
  });
  return {
    url: `http://127.0.0.1:${port}/hooks/orderstream`,
    received,
    answerWith: (answer) => { otherwise = answer; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => { resolve(); });
    }),
  };
}
