import type { EmailSender } from '../../../../platform/email/index.ts';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { AccountMailer } from '../../application/ports.ts';
import { renderAccountEmail, type AccountEmail } from '../../domain/account-email.ts';

/** The Message-ID domain of account emails: `<acc_…@identity.orderstream>`. */
export const accountMessageIdDomain = 'identity.orderstream';

/**
 * Sends account emails through the platform's sender (SMTP or the outbox folder) in the background:
 * `send` returns at once, each send is bounded by `timeoutMs`, and at most `maxInFlight` are under
 * way (more are dropped and logged, as an email asked for again later would be). Logs name the
 * email's id and kind, never its recipient or token.
 */
export class EmailAccountMailer implements AccountMailer {
  readonly #sender: EmailSender;
  readonly #logger: Logger;
  readonly #linkBaseUrl: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #now: () => Date;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: {
    sender: EmailSender; logger: Logger; linkBaseUrl?: string | undefined; timeoutMs?: number; maxInFlight?: number; now?: () => Date;
  }) {
    this.#sender = options.sender;
    this.#logger = options.logger;
    this.#linkBaseUrl = options.linkBaseUrl;
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    this.#maxInFlight = options.maxInFlight ?? 100;
    this.#now = options.now ?? (() => new Date());
  }

  send(email: AccountEmail): void {
    const id = `acc_${crypto.randomUUID()}`;
    if (this.#inFlight.size >= this.#maxInFlight) {
      this.#logger.warn({ emailId: id, kind: email.kind }, 'account email dropped: too many being sent');
      return;
    }
    const content = renderAccountEmail(email, { linkBaseUrl: this.#linkBaseUrl, now: this.#now() });
    const sending = withTimeout(this.#sender.send({ id, to: email.to, subject: content.subject, text: content.text }), this.#timeoutMs)
      .then(
        () => { this.#logger.info({ emailId: id, kind: email.kind }, 'account email sent'); },
        (error: unknown) => { this.#logger.warn({ emailId: id, kind: email.kind, reason: reasonOf(error) }, 'account email could not be sent'); },
      )
      .finally(() => { this.#inFlight.delete(sending); });
    this.#inFlight.add(sending);
  }

  /** Resolves once every email queued so far was sent or given up on (each within the timeout). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}

function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
  });
  return Promise.race([work, timedOut]).finally(() => { clearTimeout(timer); });
}

/** What went wrong, without the message: a mail server's error may quote what it was sent. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const { code, responseCode } = error as Error & { code?: unknown; responseCode?: unknown };
  if (typeof responseCode === 'number') return `smtp ${responseCode}`;
  if (typeof code === 'string') return code;
  return error.message.startsWith('no answer within') ? error.message : error.name;
}
