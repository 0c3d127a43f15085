import { randomUUID } from 'node:crypto';
import { currentContext } from '../logging/request-context.ts';
import { signPrincipal } from './gateway-signature.ts';
import { UpstreamPool, UpstreamUnavailableError } from './upstream-pool.ts';

/** A service's answer to another service: its status and parsed JSON body. */
export interface ServiceAnswer {
  status: number;
  body: unknown;
}

/** Thrown when the called service could not answer at all (down, timed out, circuit open). */
export class ServiceUnavailableError extends Error {
  constructor(service: string, cause: UpstreamUnavailableError) {
    super(`the ${service} service is unavailable (${cause.kind})`, { cause });
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * How one service calls another in the services shape: JSON over HTTP to the instances of the
 * callee (load-balanced, health-checked, behind a circuit breaker: an UpstreamPool), signed as the
 * `service` principal with the secret gateways and services share, for this method, path and body
 * and the current request id. A retry goes to another instance, whose nonces are its own.
 */
export class ServiceCaller {
  readonly #pool: UpstreamPool;
  readonly #secret: string;
  readonly #previousSecret: string | undefined;
  readonly #caller: string;
  readonly #service: string;
  readonly #timeoutMs: number;

  /** `previousSecret` (GATEWAY_SECRET_PREVIOUS) signs too while set, so callees not yet given the new secret still accept the calls. */
  constructor(options: { service: string; instances: readonly string[]; secret: string; previousSecret?: string | undefined; caller: string; timeoutMs?: number }) {
    this.#service = options.service;
    this.#secret = options.secret;
    this.#previousSecret = options.previousSecret;
    this.#caller = options.caller;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#pool = new UpstreamPool({ name: options.service, instances: options.instances });
  }

  /** Sends `body` as JSON; `retryable` only for calls that are idempotent (reads, set-to-value writes). */
  async call(method: string, path: string, body: unknown, options: { retryable: boolean }): Promise<ServiceAnswer> {
    const requestId = currentContext().requestId ?? randomUUID();
    const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    try {
      const response = await this.#pool.request({
        method, path, timeoutMs: this.#timeoutMs, retryable: options.retryable,
        headers: {
          accept: 'application/json',
          'x-request-id': requestId,
          ...(bytes === undefined ? {} : { 'content-type': 'application/json' }),
          ...signPrincipal({
            principal: { id: `service:${this.#caller}`, email: `${this.#caller}@services.orderstream.local`, roles: ['service'] },
            requestId, clientAddress: '127.0.0.1', secret: this.#secret, previousSecret: this.#previousSecret, method, path, body: bytes,
          }),
        },
        ...(bytes === undefined ? {} : { body: bytes }),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: text === '' ? undefined : JSON.parse(text) as unknown };
    } catch (error) {
      if (error instanceof UpstreamUnavailableError) throw new ServiceUnavailableError(this.#service, error);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
