import type { Logger } from '../logging/logger.ts';
import type { EmailSender, EmailTransportSettings } from './email-sender.ts';
import { FileEmailSender } from './file-email-sender.ts';
import { SmtpEmailSender, type SmtpTimeouts } from './smtp-email-sender.ts';

/** The sender of the configured transport; `messageIdDomain` tells whose messages they are (`notifications.orderstream`). */
export function createEmailSender(settings: EmailTransportSettings, options: {
  from: string; messageIdDomain: string; logger: Logger; smtpTimeouts?: Partial<SmtpTimeouts>;
}): EmailSender {
  return settings.transport === 'smtp'
    ? new SmtpEmailSender({ smtpUrl: settings.smtpUrl, from: options.from, messageIdDomain: options.messageIdDomain, ...(options.smtpTimeouts === undefined ? {} : { timeouts: options.smtpTimeouts }) })
    : new FileEmailSender({ outboxDir: settings.outboxDir, from: options.from, messageIdDomain: options.messageIdDomain, logger: options.logger });
}
