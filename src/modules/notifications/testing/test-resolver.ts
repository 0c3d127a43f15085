import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { ResolveHost } from '../adapters/webhook/checked-lookup.ts';

/** A public address for names that must resolve outside; tests never connect to it. */
export const aPublicAddress = '93.184.215.14';

/**
 * A resolver that answers from a table instead of asking DNS, and records each name it is asked.
 * A table entry is the addresses of the name, or a list of such answers given one per lookup (the
 * last one repeated), as a rebinding DNS server would. Unknown names do not resolve.
 */
export function testResolver(table: Readonly<Record<string, readonly string[] | { answers: readonly (readonly string[])[] }>>): {
  resolveHost: ResolveHost;
  lookups: string[];
} {
  const lookups: string[] = [];
  const resolveHost: ResolveHost = (hostname) => {
    const asked = lookups.filter((name) => name === hostname).length;
    lookups.push(hostname);
    const entry = table[hostname];
    const addresses = entry === undefined ? undefined : 'answers' in entry ? entry.answers[Math.min(asked, entry.answers.length - 1)] : entry;
    if (addresses === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address): LookupAddress => ({ address, family: isIP(address) })));
  };
  return { resolveHost, lookups };
}
