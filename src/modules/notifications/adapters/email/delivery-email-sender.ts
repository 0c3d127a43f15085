import type { EmailSender as PlatformEmailSender } from '../../../../platform/email/index.ts';
import type { EmailSender } from '../../application/ports.ts';

/** The Message-ID domain of order emails: `<deliveryId@notifications.orderstream>`. */
export const deliveryMessageIdDomain = 'notifications.orderstream';

/**
 * Sends a delivery's email through the platform's sender (SMTP or the outbox folder). The delivery
 * id names the message, so a resend after a crash mid-send carries the same Message-ID.
 */
export class DeliveryEmailSender implements EmailSender {
  readonly #sender: PlatformEmailSender;

  constructor(sender: PlatformEmailSender) {
    this.#sender = sender;
  }

  async send(message: Parameters<EmailSender['send']>[0]): Promise<void> {
    await this.#sender.send({ id: message.deliveryId, to: message.to, subject: message.subject, text: message.text, html: message.html });
  }
}
