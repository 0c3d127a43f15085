/**
 * Lets a background loop sleep until either a timeout or a wake-up, without losing a wake-up that
 * arrives while the loop is busy (it makes the next wait return at once).
 */
export class WakeSignal {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  async wait(timeoutMs: number): Promise<void> {
    if (!this.#pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#resolve = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#resolve = undefined;
    }
    this.#pending = false;
  }
}
