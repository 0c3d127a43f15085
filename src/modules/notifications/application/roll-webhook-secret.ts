import { WebhookEndpointNotFoundError } from '../domain/delivery.errors.ts';
import { checkOverlapSeconds, defaultSecretRollOverlapSeconds, rollSecret } from '../domain/webhook-endpoint.ts';
import type { WebhookEndpointRepository } from './ports.ts';
import { newSigningSecret } from './register-webhook-endpoint.ts';

/** What a roll answers: the new secret (shown this once) and when the previous one stops signing. */
export interface RolledSecret {
  id: string;
  secret: string;
  /** Null when the previous secret was dropped at once (an overlap of 0). */
  previousSecretExpiresAt: Date | null;
}

/**
 * Gives an endpoint a new signing secret. For `overlapSeconds` (a day by default) deliveries are
 * signed with both the new and the previous secret, so a receiver can switch without refusing one;
 * then only the new one signs. An overlap of 0 drops the previous secret at once (it leaked).
 */
export class RollWebhookSecret {
  readonly #endpoints: WebhookEndpointRepository;
  readonly #newSecret: () => string;
  readonly #now: () => Date;

  constructor(deps: { endpoints: WebhookEndpointRepository; newSecret?: () => string; now?: () => Date }) {
    this.#endpoints = deps.endpoints;
    this.#newSecret = deps.newSecret ?? newSigningSecret;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(id: string, options: { overlapSeconds?: number } = {}): Promise<RolledSecret> {
    const now = this.#now();
    const overlapSeconds = options.overlapSeconds ?? defaultSecretRollOverlapSeconds;
    // Checked before the endpoint is looked up, so a bad overlap is refused the same whether or not it exists.
    checkOverlapSeconds(overlapSeconds);
    const secret = this.#newSecret();
    const expiresAt = overlapSeconds === 0 ? null : new Date(now.getTime() + overlapSeconds * 1000);
    const rolled = await this.#endpoints.rollSecret(id, (endpoint) => rollSecret(endpoint, secret, now, overlapSeconds), {
      action: 'notifications.webhook-secret-rolled', targetId: id, after: { previousSecretExpiresAt: expiresAt?.toISOString() ?? null },
    });
    if (rolled === undefined) throw new WebhookEndpointNotFoundError(id);
    return { id, secret: rolled.secret, previousSecretExpiresAt: rolled.previousSecret?.expiresAt ?? null };
  }
}
