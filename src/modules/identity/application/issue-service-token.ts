import { InvalidClientError } from '../domain/identity.errors.ts';
import type { IssueAccessToken, IssuedAccessToken } from './issue-access-token.ts';
import type { SecretTokens, ServiceClientRepository } from './ports.ts';

/** Client credentials grant: a service client's id and secret buy an access token with the `service` role. */
export class IssueServiceToken {
  readonly #clients: ServiceClientRepository;
  readonly #secrets: SecretTokens;
  readonly #issueAccessToken: IssueAccessToken;

  constructor(deps: { clients: ServiceClientRepository; secrets: SecretTokens; issueAccessToken: IssueAccessToken }) {
    this.#clients = deps.clients;
    this.#secrets = deps.secrets;
    this.#issueAccessToken = deps.issueAccessToken;
  }

  async execute(input: { clientId: string; clientSecret: string }): Promise<IssuedAccessToken> {
    const client = await this.#clients.findById(input.clientId);
    // Client secrets are long random values, so a fast digest is enough and no dummy work is needed.
    if (client === undefined || !this.#secrets.matches(input.clientSecret, client.secretHash)) throw new InvalidClientError();
    return this.#issueAccessToken.execute({ id: client.id, email: undefined, roles: ['service'] });
  }
}
