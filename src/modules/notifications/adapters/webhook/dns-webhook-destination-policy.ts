import type { WebhookDestinationPolicy } from '../../application/ports.ts';
import { resolveAllowedAddresses, systemResolveHost, type ResolveHost } from './checked-lookup.ts';
import type { DestinationAddressRule } from './destination-address-rule.ts';

/**
 * Judges a URL at registration by the addresses its host is, or resolves to now. A host that does
 * not resolve within the timeout is refused like an internal one, so the answer tells nothing
 * about names only the server can see. Deliveries check again when they connect
 * (`HttpWebhookSender`): DNS may change in between.
 */
export class DnsWebhookDestinationPolicy implements WebhookDestinationPolicy {
  readonly #rule: DestinationAddressRule;
  readonly #resolve: ResolveHost;
  readonly #timeoutMs: number;

  constructor(options: { rule: DestinationAddressRule; resolveHost?: ResolveHost; timeoutMs: number }) {
    this.#rule = options.rule;
    this.#resolve = options.resolveHost ?? systemResolveHost;
    this.#timeoutMs = options.timeoutMs;
  }

  async allows(url: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error('lookup timed out')); }, this.#timeoutMs);
    });
    try {
      await Promise.race([resolveAllowedAddresses(new URL(url).hostname, this.#rule, this.#resolve), deadline]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
