import { createHash, timingSafeEqual } from 'node:crypto';

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * One user name and password checked against `Authorization: Basic ...`. Both sides are compared
 * as SHA-256 digests with timingSafeEqual, and both comparisons always run: the time taken says
 * neither how long the secrets are nor which of the two was wrong.
 */
export class BasicCredentials {
  private readonly user: Buffer;
  private readonly password: Buffer;

  constructor(user: string, password: string) {
    this.user = digest(user);
    this.password = digest(password);
  }

  /** `absent` when the request offers no Basic credentials at all (a browser's first request). */
  check(authorization: string | undefined): 'valid' | 'invalid' | 'absent' {
    const encoded = BASIC.exec(authorization ?? '')?.[1];
    if (encoded === undefined) return 'absent';
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'invalid';
    const userMatches = timingSafeEqual(digest(decoded.slice(0, colon)), this.user);
    const passwordMatches = timingSafeEqual(digest(decoded.slice(colon + 1)), this.password);
    return userMatches && passwordMatches ? 'valid' : 'invalid';
  }
}
