import type { SendMailOptions } from 'nodemailer';
import type { EmailSender } from '../../application/ports.ts';

export type EmailMessage = Parameters<EmailSender['send']>[0];

/**
 * The nodemailer message for a delivery. The Message-ID is derived from the delivery id, so a
 * message sent again after a crash mid-send carries the same id and mail clients show it once.
 */
export function mailOptions(message: EmailMessage, from: string): SendMailOptions {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${message.deliveryId}@notifications.orderstream>`,
  };
}
