/**
 * Retries as a share of requests: each request earns `ratio` of a retry, plus `perSecond` retries
 * a second whatever the traffic, up to a small reserve; each retry spends one.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #perSecond: number;
  readonly #reserve: number;
  #tokens: number;
  #updatedAt = performance.now();

  constructor(ratio: number, perSecond: number) {
    this.#ratio = ratio;
    this.#perSecond = perSecond;
    this.#reserve = Math.max(10, perSecond * 10);
    this.#tokens = perSecond;
  }

  deposit(): void {
    this.#refill();
    this.#tokens = Math.min(this.#reserve, this.#tokens + this.#ratio);
  }

  withdraw(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#reserve, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#perSecond);
    this.#updatedAt = now;
  }
}
