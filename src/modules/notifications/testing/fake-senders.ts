import type { EmailSender, WebhookBody, WebhookSender } from '../application/ports.ts';

type EmailMessage = Parameters<EmailSender['send']>[0];

/** Records emails instead of sending them; fails the first `failures` sends. */
export class RecordingEmailSender implements EmailSender {
  readonly sent: EmailMessage[] = [];
  failures: number;

  constructor(options: { failures?: number } = {}) {
    this.failures = options.failures ?? 0;
  }

  send(message: EmailMessage): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('mail server said no'));
    }
    this.sent.push(message);
    return Promise.resolve();
  }
}

/** Records webhook requests; answers each with the next scripted outcome (`ok` once the script runs out). */
export class ScriptedWebhookSender implements WebhookSender {
  readonly requests: { url: string; secrets: readonly string[]; body: WebhookBody }[] = [];
  readonly #script: ('ok' | 'fail')[];

  constructor(script: ('ok' | 'fail')[] = []) {
    this.#script = [...script];
  }

  send(request: { url: string; secrets: readonly string[]; body: WebhookBody }): Promise<void> {
    this.requests.push(request);
    return this.#script.shift() === 'fail' ? Promise.reject(new Error('answered 5xx')) : Promise.resolve();
  }
}
