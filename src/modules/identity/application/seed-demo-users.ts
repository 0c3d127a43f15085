import type { Credentials } from '../contract.ts';
import type { GrantAdmin } from './grant-admin.ts';
import type { UserRepository } from './ports.ts';
import type { RegisterUser } from './register-user.ts';

/** The demo accounts `orderstream seed` creates. Public on purpose: they exist for local demos only. */
export const demoAdmin: Credentials = { email: 'admin@demo.orderstream.local', password: 'demo-admin-orderstream-2026' };
export const demoCustomer: Credentials = { email: 'customer@demo.orderstream.local', password: 'demo-customer-orderstream-2026' };

/** Creates a demo admin and a demo customer when they do not exist yet, and answers their credentials; running it again changes nothing. */
export class SeedDemoUsers {
  readonly #users: UserRepository;
  readonly #registerUser: RegisterUser;
  readonly #grantAdmin: GrantAdmin;

  constructor(deps: { users: UserRepository; registerUser: RegisterUser; grantAdmin: GrantAdmin }) {
    this.#users = deps.users;
    this.#registerUser = deps.registerUser;
    this.#grantAdmin = deps.grantAdmin;
  }

  async execute(): Promise<{ admin: Credentials; customer: Credentials }> {
    for (const account of [demoAdmin, demoCustomer]) {
      const user = await this.#users.findByEmail(account.email) ?? await this.#registerUser.execute(account);
      // Demo addresses receive no mail; they count as verified so demos work with REQUIRE_EMAIL_VERIFICATION on.
      if (user.emailVerifiedAt === undefined) await this.#users.saveEmailVerified(user.id, user.createdAt);
    }
    await this.#grantAdmin.execute(demoAdmin.email);
    return { admin: { ...demoAdmin }, customer: { ...demoCustomer } };
  }
}
