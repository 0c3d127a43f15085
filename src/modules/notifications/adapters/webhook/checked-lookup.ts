import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { DestinationAddressRule } from './destination-address-rule.ts';

/** Resolves a host name to all its addresses; the system resolver, or a test's own table. */
export type ResolveHost = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (`getaddrinfo`, so `/etc/hosts` counts), every address in the order it gives them. */
export const systemResolveHost: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' });

/** A webhook destination is, or resolves to, an address deliveries may not reach. */
export class DestinationRefusedError extends Error {
  readonly code = 'ERR_WEBHOOK_DESTINATION_REFUSED';
  constructor() {
    super('refused destination');
    this.name = 'DestinationRefusedError';
  }
}

/**
 * The addresses of `host` (a name, or an IP literal as a URL writes it), once checked: throws
 * `DestinationRefusedError` when the literal or any resolved address is refused. A name with one
 * internal address among public ones is refused whole, so no choice of address can reach inside.
 */
export async function resolveAllowedAddresses(host: string, rule: DestinationAddressRule, resolve: ResolveHost): Promise<LookupAddress[]> {
  const literal = ipLiteralOf(host);
  if (literal !== undefined) {
    if (!rule.allows(literal)) throw new DestinationRefusedError();
    return [{ address: literal, family: isIP(literal) }];
  }
  const addresses = await resolve(host);
  if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  if (addresses.some(({ address }) => !rule.allows(address))) throw new DestinationRefusedError();
  return [...addresses];
}

/** The IP address a URL host names directly (`10.0.0.1`, `[fd00::1]`); undefined for a host name. */
export function ipLiteralOf(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) === 0 ? undefined : bare;
}

/**
 * A `lookup` for `net.connect`/`tls.connect` that resolves once and hands over only checked
 * addresses: the socket connects to exactly what was checked, so a name cannot resolve to a public
 * address for the check and to an internal one for the connection. Refusal happens before any
 * connection attempt.
 */
export function checkedLookup(rule: DestinationAddressRule, resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowedAddresses(hostname, rule, resolve).then((addresses) => {
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter((entry) => entry.family === options.family) : addresses;
      const first = wanted[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`${hostname} has no IPv${String(options.family)} address`), { code: 'ENOTFOUND' }), '', 0);
      } else if (options.all === true) {
        callback(null, wanted);
      } else {
        callback(null, first.address, first.family);
      }
    }, (error: unknown) => {
      callback(error instanceof Error ? error : new Error(String(error)), '', 0);
    });
  };
}
