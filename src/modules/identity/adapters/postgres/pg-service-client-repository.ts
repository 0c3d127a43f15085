import type { Kysely } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { ServiceClientRepository } from '../../application/ports.ts';
import { InvalidServiceClientError } from '../../domain/identity.errors.ts';
import type { ServiceClient } from '../../domain/service-client.ts';
import { isUniqueViolation, type IdentityTables } from './identity-tables.ts';

/** Service clients in PostgreSQL. */
export class PgServiceClientRepository implements ServiceClientRepository {
  readonly #db: Kysely<IdentityTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<IdentityTables>();
  }

  async add(client: ServiceClient): Promise<void> {
    try {
      await this.#db.insertInto('identity.service_clients').values({
        id: client.id, name: client.name, secret_hash: client.secretHash, created_at: client.createdAt,
      }).execute();
    } catch (error) {
      if (isUniqueViolation(error, 'service_clients_name_key')) throw new InvalidServiceClientError(`A service client named ${client.name} already exists`);
      throw error;
    }
  }

  async findById(id: string): Promise<ServiceClient | undefined> {
    const row = await this.#db.selectFrom('identity.service_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : { id: row.id, name: row.name, secretHash: row.secret_hash, createdAt: row.created_at };
  }
}
