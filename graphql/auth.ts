import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { GovcaseError } from '../domain/errors.ts';
import { roles, type Principal } from '../domain/permissions.ts';

/**
 * Identity comes from the platform's SSO as a JWT: HS256 with a shared secret, or RS256/ES256 with
 * the SSO's public key. Claims: sub, name, roles, dept, region. `system` is never accepted from a
 * token. Every failure is UNAUTHENTICATED with the reason, never a stack.
 */
const ClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  name: z.string().max(100).optional(),
  roles: z.array(z.enum(roles)).min(1).max(6),
  dept: z.string().min(1).max(64).optional(),
  region: z.string().regex(/^\d{6}$/).optional(),
});

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

const CLOCK_TOLERANCE_S = 30;

export const createTokenVerifier = (options: { readonly secret?: string; readonly publicKey?: string; readonly cacheSize?: number }): TokenVerifier => {
  let key: KeyObject;
  let algorithms: string[];
  if (options.publicKey) {
    key = createPublicKey(options.publicKey);
    algorithms = key.asymmetricKeyType === 'ec' ? ['ES256', 'ES384'] : ['RS256', 'RS384', 'RS512', 'PS256'];
  } else if (options.secret) {
    key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    algorithms = ['HS256'];
  } else throw new Error('a JWT secret or public key is required');

  // Clients send the same token with every request: a verified one is remembered until it expires
  // (checked on every hit), so the signature is computed once per token, not once per request.
  const verified = new Map<string, { principal: Principal; exp: number | undefined }>();
  const cacheSize = options.cacheSize ?? 10_000;
  const remember = (token: string, principal: Principal, exp: number | undefined) => {
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
    verified.set(token, { principal, exp });
  };

  return {
    async verify(token) {
      if (token.length > 8_192) throw new GovcaseError('UNAUTHENTICATED', 'the token is too long');
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp === undefined || hit.exp + CLOCK_TOLERANCE_S > Date.now() / 1000) return hit.principal;
        verified.delete(token); // expired: verify again, which says so
      }
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, key, { algorithms, clockTolerance: CLOCK_TOLERANCE_S }));
      } catch (err) {
        const reason = err instanceof joseErrors.JWTExpired ? 'the token has expired'
          : err instanceof joseErrors.JWSSignatureVerificationFailed ? 'the token signature is invalid'
          : err instanceof joseErrors.JOSEAlgNotAllowed ? 'the token algorithm is not accepted'
          : 'the token is malformed or invalid';
        throw new GovcaseError('UNAUTHENTICATED', reason);
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) throw new GovcaseError('UNAUTHENTICATED', `the token claims are invalid: ${claims.error.issues[0]?.path.join('.')} ${claims.error.issues[0]?.message}`);
      const c = claims.data;
      const principal: Principal = Object.freeze({ id: c.sub, name: c.name, roles: c.roles, departmentCode: c.dept, regionCode: c.region });
      remember(token, principal, typeof (payload as { exp?: unknown }).exp === 'number' ? (payload as { exp: number }).exp : undefined);
      return principal;
    },
  };
};

/** Mints an HS256 token (dev, tests, `govcase token`). */
export const signToken = async (secret: string, claims: z.input<typeof ClaimsSchema>, ttl = '1h'): Promise<string> => {
  const c = ClaimsSchema.parse(claims);
  return new SignJWT({ name: c.name, roles: c.roles, dept: c.dept, region: c.region })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(c.sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(createSecretKey(Buffer.from(secret, 'utf8')));
};
