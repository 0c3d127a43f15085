import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { AccessTokenClaims, AccessTokenSigner, SigningKeyGenerator } from '../../application/ports.ts';
import type { NewSigningKey, PublicJwk, SigningKey } from '../../domain/signing-key.ts';

/** New ES256 (P-256) key pairs, named by their RFC 7638 thumbprint. */
export class JoseSigningKeyGenerator implements SigningKeyGenerator {
  async generate(): Promise<NewSigningKey> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const { kty, crv, x, y } = publicJwk;
    if (kty === undefined || crv === undefined || x === undefined || y === undefined) throw new Error('an EC public key without coordinates');
    const privateJwk = stringFields(await exportJWK(privateKey));
    return { kid, publicJwk: { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } satisfies PublicJwk, privateJwk };
  }
}

/** Signs access tokens with ES256; imported private keys are kept per key id. */
export class JoseAccessTokenSigner implements AccessTokenSigner {
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  async sign(claims: AccessTokenClaims, key: SigningKey): Promise<string> {
    const privateKey = await this.#privateKey(key);
    return new SignJWT({
      roles: [...claims.roles],
      ...(claims.email === undefined ? {} : { email: claims.email, email_verified: claims.emailVerified === true }),
      ...(claims.sessionId === undefined ? {} : { sid: claims.sessionId }),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .setIssuer(claims.issuer)
      .setAudience(claims.audience)
      .setSubject(claims.subject)
      .setJti(claims.tokenId)
      // To the millisecond (a NumericDate may have a fraction), and `exp` with it so a token lives exactly its
      // lifetime: a user revocation refuses tokens issued before its moment, and the fresh token a
      // password change answers is issued in the same second.
      .setIssuedAt(claims.issuedAt.getTime() / 1000)
      .setNotBefore(seconds(claims.issuedAt))
      .setExpirationTime(claims.expiresAt.getTime() / 1000)
      .sign(privateKey);
  }

  #privateKey(key: SigningKey): Promise<CryptoKey> {
    let imported = this.#imported.get(key.kid);
    if (imported === undefined) {
      imported = importJWK({ ...key.privateJwk, alg: 'ES256' } satisfies JWK, 'ES256') as Promise<CryptoKey>;
      this.#imported.set(key.kid, imported);
    }
    return imported;
  }
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function stringFields(jwk: JWK): Record<string, string> {
  return Object.fromEntries(Object.entries(jwk).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
