import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logging/logger.ts';
import type { EmailSender, OutgoingEmail } from './email-sender.ts';
import { mailOptions } from './mail-options.ts';

/**
 * Writes each email as `<id>.eml` into a folder instead of sending it: for development and demos,
 * where the files can be opened with any mail client.
 */
export class FileEmailSender implements EmailSender {
  readonly #transport: Transporter;
  readonly #outboxDir: string;
  readonly #from: string;
  readonly #messageIdDomain: string;
  readonly #logger: Logger;

  constructor(options: { outboxDir: string; from: string; messageIdDomain: string; logger: Logger }) {
    this.#outboxDir = options.outboxDir;
    this.#from = options.from;
    this.#messageIdDomain = options.messageIdDomain;
    this.#logger = options.logger;
    this.#transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  async send(message: OutgoingEmail): Promise<void> {
    const info = await this.#transport.sendMail(mailOptions(message, { from: this.#from, messageIdDomain: this.#messageIdDomain })) as { message: Buffer };
    await mkdir(this.#outboxDir, { recursive: true });
    const file = path.join(this.#outboxDir, `${safeFileName(message.id)}.eml`);
    // Written aside and renamed, so a reader (or a crash) never sees half a message under the final name.
    const partial = `${file}.partial`;
    await writeFile(partial, info.message);
    await rename(partial, file);
    this.#logger.info({ emailId: message.id, file }, 'email written to the outbox folder');
  }
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
