import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailSender, OutgoingEmail } from './email-sender.ts';
import { mailOptions } from './mail-options.ts';

/** Longest waits of one SMTP conversation, in milliseconds. */
export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  socketMs: number;
}

const defaultTimeouts: SmtpTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };

/** Sends emails through an SMTP server (`smtp://user:password@host:587`, `smtps://…`). */
export class SmtpEmailSender implements EmailSender {
  readonly #transport: Transporter;
  readonly #from: string;
  readonly #messageIdDomain: string;

  constructor(options: { smtpUrl: string; from: string; messageIdDomain: string; timeouts?: Partial<SmtpTimeouts> }) {
    this.#from = options.from;
    this.#messageIdDomain = options.messageIdDomain;
    const timeouts = { ...defaultTimeouts, ...options.timeouts };
    // Bounded waits: a stuck server fails the attempt instead of holding its caller.
    this.#transport = nodemailer.createTransport({
      url: options.smtpUrl, connectionTimeout: timeouts.connectionMs, greetingTimeout: timeouts.greetingMs, socketTimeout: timeouts.socketMs,
    });
  }

  async send(message: OutgoingEmail): Promise<void> {
    await this.#transport.sendMail(mailOptions(message, { from: this.#from, messageIdDomain: this.#messageIdDomain }));
  }

  close(): void {
    this.#transport.close();
  }
}
