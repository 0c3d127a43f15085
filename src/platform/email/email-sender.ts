/** One email to send. `id` is unique per message: it makes the Message-ID and, in the file transport, the file's name. */
export interface OutgoingEmail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Sends one email; resolves once the mail server (or the outbox folder) accepted it, throws otherwise. */
export interface EmailSender {
  send(message: OutgoingEmail): Promise<void>;
}

/** How emails leave: as `.eml` files in a folder (development), or through an SMTP server. */
export type EmailTransportSettings = { transport: 'file'; outboxDir: string } | { transport: 'smtp'; smtpUrl: string };
