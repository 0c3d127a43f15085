import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailSender } from '../../application/ports.ts';
import { mailOptions, type EmailMessage } from './mail-options.ts';

/** Sends customer emails through an SMTP server (`smtp://user:password@host:587`, `smtps://…`). */
export class SmtpEmailSender implements EmailSender {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(options: { smtpUrl: string; from: string }) {
    this.#from = options.from;
    // Bounded waits: a stuck server must fail the attempt (to be retried) well within the worker's lease.
    this.#transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  }

  async send(message: EmailMessage): Promise<void> {
    await this.#transport.sendMail(mailOptions(message, this.#from));
  }

  close(): void {
    this.#transport.close();
  }
}
