import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretTokens } from '../../application/ports.ts';

/**
 * 256-bit random secrets (base64url) and their SHA-256 digests. A fast digest is enough here: unlike
 * passwords, the secrets are random, so a stolen digest cannot be reversed by guessing.
 */
export class NodeSecretTokens implements SecretTokens {
  generate(): string {
    return randomBytes(32).toString('base64url');
  }

  digest(secret: string): string {
    return createHash('sha256').update(secret, 'utf8').digest('base64url');
  }

  matches(secret: string, digest: string): boolean {
    const presented = Buffer.from(this.digest(secret), 'utf8');
    const stored = Buffer.from(digest, 'utf8');
    return presented.length === stored.length && timingSafeEqual(presented, stored);
  }
}
