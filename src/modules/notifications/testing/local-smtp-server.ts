import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as an SMTP server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A real SMTP server on a free loopback port, keeping what it receives; no TLS, no authentication.
 * `refuse(true)` makes it reject every message for good (550) until `refuse(false)`; `refused` keeps
 * the recipients of each message it rejected.
 */
export async function startLocalSmtpServer(): Promise<{ url: string; received: ReceivedMail[]; refused: string[][]; refuse: (refusing: boolean) => void; close: () => Promise<void> }> {
  const received: ReceivedMail[] = [];
  let refusing = false;
  const refused: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refusing) {
          refused.push(session.envelope.rcptTo.map((recipient) => recipient.address));
          callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
          return;
        }
        received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  // A client that goes away mid-session (a process a test stops) resets its socket, and the server
  // re-emits that as 'error': without a listener it would surface as an uncaught exception after the test.
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    const listening = server.listen(0, '127.0.0.1', () => { resolve((listening.address() as AddressInfo).port); });
    listening.once('error', reject);
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refused,
    refuse: (value) => { refusing = value; },
    close: () => new Promise<void>((resolve) => { server.close(resolve); }),
  };
}

/** The decoded text of a MIME part written in quoted-printable (`=E2=82=AC` → `€`, soft line breaks joined). */
export function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < joined.length; index += 1) {
    const hex = joined.slice(index + 1, index + 3);
    if (joined[index] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(joined[index] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
