import type { ServiceClientCredentials } from '../contract.ts';
import { validClientName } from '../domain/service-client.ts';
import type { SecretTokens, ServiceClientRepository } from './ports.ts';

/** Registers a service client for client-credentials tokens; its secret is answered once and stored only as a digest. */
export class CreateServiceClient {
  readonly #clients: ServiceClientRepository;
  readonly #secrets: SecretTokens;
  readonly #now: () => Date;

  constructor(deps: { clients: ServiceClientRepository; secrets: SecretTokens; now?: () => Date }) {
    this.#clients = deps.clients;
    this.#secrets = deps.secrets;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(rawName: string): Promise<ServiceClientCredentials> {
    const name = validClientName(rawName);
    const clientSecret = this.#secrets.generate();
    const clientId = `svc_${crypto.randomUUID()}`;
    await this.#clients.add({ id: clientId, name, secretHash: this.#secrets.digest(clientSecret), createdAt: this.#now() });
    return { clientId, clientSecret, name };
  }
}
