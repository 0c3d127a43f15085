import { z } from 'zod';
import { identityEvents, type UserRegisteredV1 } from '../../contract.ts';

// Identity's one message with its payload schema, for the AsyncAPI document (src/apps/asyncapi.ts).
// No module consumes it, so the schema is the publisher's, typed against the contract so that a
// change there that it misses fails to compile.

/** `identity.user-registered` v1 as identity writes it. */
export const userRegistered: z.ZodType<UserRegisteredV1> = z.object({
  userId: z.string().min(1),
  email: z.string().min(3),
  roles: z.array(z.enum(['customer', 'admin', 'service'])),
  registeredAt: z.string(),
});

/** Identity consumes nothing; it sends `identity.user-registered`. */
export const identityMessageSchemas = {
  consumers: [],
  sends: [{ message: identityEvents.userRegistered, payload: userRegistered }],
};
