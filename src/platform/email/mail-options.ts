import type { SendMailOptions } from 'nodemailer';
import type { OutgoingEmail } from './email-sender.ts';

/**
 * The nodemailer message for an email. The Message-ID is derived from the message's id, so a
 * message sent again after a crash mid-send carries the same id and mail clients show it once.
 */
export function mailOptions(message: OutgoingEmail, options: { from: string; messageIdDomain: string }): SendMailOptions {
  return {
    from: options.from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    messageId: `<${message.id}@${options.messageIdDomain}>`,
  };
}
