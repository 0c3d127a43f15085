import type { WebhookDestinationPolicy } from '../application/ports.ts';

/** Allows every webhook URL but the ones it is told to refuse, and records each URL it judged. */
export class ListedDestinationPolicy implements WebhookDestinationPolicy {
  readonly asked: string[] = [];
  readonly #refused: ReadonlySet<string>;

  constructor(refused: readonly string[] = []) {
    this.#refused = new Set(refused);
  }

  allows(url: string): Promise<boolean> {
    this.asked.push(url);
    return Promise.resolve(!this.#refused.has(url));
  }
}
