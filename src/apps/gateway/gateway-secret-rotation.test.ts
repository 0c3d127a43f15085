import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../platform/config/config.ts';
import { createHttpApp, type HttpApp } from '../../platform/http/app.ts';
import type { RoutePolicy } from '../../platform/http/edge.ts';
import { ServiceCaller } from '../../platform/http/service-caller.ts';
import { createLogger } from '../../platform/logging/logger.ts';
import { gatewayTrustSettings } from '../edge-wiring.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { routePolicies } from './route-policies.ts';

// A rotation of GATEWAY_SECRET as docs/security.md (Rotating secrets) tells it, on real listeners:
// two service instances restarted one at a time and two gateways switched one at a time, with
// requests through both gateways and calls between the services after every step. Every one of
// them must succeed; once the old secret is dropped, a gateway still holding it is refused.

const oldSecret = 'old-gateway-secret-0123456789-0123456789';
const newSecret = 'new-gateway-secret-0123456789-0123456789';
// The real route table: GET /v1/products is public and retryable, served by catalog.
const policies: readonly RoutePolicy[] = routePolicies;
const silent = createLogger({ level: 'silent' });

interface Secrets { GATEWAY_SECRET: string; GATEWAY_SECRET_PREVIOUS?: string }

/** A service instance on a fixed port, restarted with other secrets as an operator would. */
class ServiceInstance {
  readonly name: string;
  port = 0;
  #app: HttpApp | undefined;
  #secrets: Secrets = { GATEWAY_SECRET: oldSecret };
  served = 0;

  constructor(name: string) {
    this.name = name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get secrets(): Secrets {
    return this.#secrets;
  }

  async start(secrets: Secrets): Promise<void> {
    await this.stop();
    this.#secrets = secrets;
    const config = loadConfig({ LOG_LEVEL: 'silent', ...secrets });
    const app = createHttpApp({
      logger: silent, bodyLimit: 10_000, readiness: [], documentation: false,
      gatewayTrust: gatewayTrustSettings(config, secrets.GATEWAY_SECRET, policies),
      routes: [(scoped) => {
        scoped.get('/v1/products', () => {
          this.served += 1;
          return { servedBy: this.name };
        });
      }],
    });
    await app.listen({ host: '127.0.0.1', port: this.port });
    this.port = (app.server.address() as AddressInfo).port;
    this.#app = app;
  }

  async stop(): Promise<void> {
    const app = this.#app;
    this.#app = undefined;
    if (app === undefined) return;
    app.server.closeAllConnections();
    await app.close();
  }

  /** This instance calling the other as services do (ServiceCaller), with the secrets it was started with. */
  async call(other: ServiceInstance): Promise<number> {
    const caller = new ServiceCaller({
      service: other.name, instances: [other.url], caller: this.name,
      secret: this.#secrets.GATEWAY_SECRET, previousSecret: this.#secrets.GATEWAY_SECRET_PREVIOUS,
    });
    try {
      return (await caller.call('GET', '/v1/products', undefined, { retryable: false })).status;
    } finally {
      await caller.close();
    }
  }
}

const services = [new ServiceInstance('catalog-1'), new ServiceInstance('catalog-2')];
const gateways: { name: string; gateway: Gateway | undefined }[] = [{ name: 'gateway-1', gateway: undefined }, { name: 'gateway-2', gateway: undefined }];

function startGateway(secret: string): Gateway {
  return createGateway({
    config: loadConfig({
      LOG_LEVEL: 'silent', GATEWAY_SECRET: secret, GATEWAY_UPSTREAMS: `*=${services.map((service) => service.url).join(',')}`,
      RATE_LIMIT_BURST: '100000', GATEWAY_FAILURES_TO_EJECT: '100',
    }),
    logger: silent, policies,
  });
}

async function switchGateway(index: number, secret: string): Promise<void> {
  const slot = gateways[index];
  assert.ok(slot);
  await slot.gateway?.close();
  slot.gateway = startGateway(secret);
}

/** Requests through every gateway (enough to reach both instances) and calls between the services in both directions, all of which must succeed. */
async function assertEverythingAnswers(step: string): Promise<void> {
  const servedBefore = services.map((service) => service.served);
  for (const slot of gateways) {
    const { name, gateway } = slot;
    assert.ok(gateway !== undefined);
    for (let index = 0; index < 4; index += 1) {
      const response: { statusCode: number; body: string } = await gateway.app.inject({ method: 'GET', url: '/v1/products' });
      assert.equal(response.statusCode, 200, `${step}: ${name}: ${response.body}`);
    }
  }
  for (const [index, service] of services.entries()) assert.ok(service.served > (servedBefore[index] ?? 0), `${step}: ${service.name} was reached through the gateways`);
  const [first, second] = services as [ServiceInstance, ServiceInstance];
  assert.equal(await first.call(second), 200, `${step}: ${first.name} calling ${second.name}`);
  assert.equal(await second.call(first), 200, `${step}: ${second.name} calling ${first.name}`);
}

after(async () => {
  for (const slot of gateways) await slot.gateway?.close();
  for (const service of services) await service.stop();
});

describe('rotating GATEWAY_SECRET', () => {
  test('when services are restarted on new+old one by one, then gateways switched one by one, then old dropped one by one, then every request and call succeeds at every step, and a gateway left on the old secret is refused at the end', async () => {
    for (const service of services) await service.start({ GATEWAY_SECRET: oldSecret });
    await switchGateway(0, oldSecret);
    await switchGateway(1, oldSecret);
    await assertEverythingAnswers('before the rotation');

    for (const service of services) {
      await service.start({ GATEWAY_SECRET: newSecret, GATEWAY_SECRET_PREVIOUS: oldSecret });
      await assertEverythingAnswers(`${service.name} on new and old`);
    }
    for (const index of [0, 1]) {
      await switchGateway(index, newSecret);
      await assertEverythingAnswers(`${gateways[index]?.name ?? ''} on new`);
    }
    for (const service of services) {
      await service.start({ GATEWAY_SECRET: newSecret });
      await assertEverythingAnswers(`${service.name} on new only`);
    }

    const stale = startGateway(oldSecret);
    try {
      const refused = await stale.app.inject({ method: 'GET', url: '/v1/products' });
      assert.notEqual(refused.statusCode, 200, 'a gateway still signing with the dropped secret is refused');
      const staleService = new ServiceInstance('stale');
      await staleService.start({ GATEWAY_SECRET: oldSecret });
      try {
        const [first] = services;
        assert.ok(first !== undefined);
        assert.equal(await staleService.call(first), 401, 'a service still signing with the dropped secret is refused');
      } finally {
        await staleService.stop();
      }
    } finally {
      await stale.close();
    }
  });
});
