/** Sending email, shared by the modules that send their own (notifications' order emails, identity's account emails). */
export type { EmailSender, EmailTransportSettings, OutgoingEmail } from './email-sender.ts';
export { createEmailSender } from './create-email-sender.ts';
export { FileEmailSender } from './file-email-sender.ts';
export { SmtpEmailSender, type SmtpTimeouts } from './smtp-email-sender.ts';
