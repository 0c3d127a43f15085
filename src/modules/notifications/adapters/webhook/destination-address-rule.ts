import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Which IP addresses webhook deliveries may reach: public unicast addresses only, unless the
 * address falls in a network the operator allowed (`WEBHOOK_ALLOWED_NETWORKS`, for local receivers
 * in development and tests). Everything else is refused: loopback, private (RFC 1918), shared
 * (100.64/10), link-local, unique-local, site-local, multicast, broadcast, unspecified,
 * documentation, benchmarking and other reserved ranges, and the IPv6 forms that carry an IPv4
 * address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) when the address they carry is refused.
 */
export class DestinationAddressRule {
  readonly #allowedNetworks: readonly [Address, number][];

  /** `allowedNetworks`: CIDRs (`127.0.0.1/32`, `fd00::/8`) or single addresses; throws on one that is neither. */
  constructor(allowedNetworks: readonly string[] = []) {
    this.#allowedNetworks = allowedNetworks.map(parseNetwork);
  }

  /** True when a delivery may connect to `text`, an IP address as a resolver or a URL gives it; false for anything else. */
  allows(text: string): boolean {
    const address = parseAddress(text);
    if (address === undefined) return false;
    return this.#isAllowedNetwork(address) || isPublic(address);
  }

  #isAllowedNetwork(address: Address): boolean {
    const forms = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
      ? [address, (address as ipaddr.IPv6).toIPv4Address()]
      : [address];
    return forms.some((form) => this.#allowedNetworks.some(([network, bits]) => network.kind() === form.kind() && form.match(network, bits)));
  }
}

/** The address of `text` when it is a plain IPv4 (four decimal parts) or IPv6 address; brackets of a URL host are accepted. */
function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Shorthand IPv4 forms (`2130706433`, `0x7f.1`) never reach here from a URL or a resolver; refusing them keeps the rule simple to read.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (ipaddr.IPv6.isValid(bare) && !bare.includes('%')) return ipaddr.IPv6.parse(bare);
  return undefined;
}

function parseNetwork(text: string): [Address, number] {
  const trimmed = text.trim();
  if (ipaddr.isValidCIDR(trimmed)) return ipaddr.parseCIDR(trimmed);
  const address = parseAddress(trimmed);
  if (address === undefined) throw new Error(`"${text}" is neither an IP address nor a CIDR`);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

const siteLocal = ipaddr.IPv6.parseCIDR('fec0::/10');
const ipv4Mapped = ipaddr.IPv6.parseCIDR('::ffff:0:0/96');
const ipv4Translated = ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96');
const ipv4Compatible = ipaddr.IPv6.parseCIDR('::/96');
const nat64WellKnown = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const nat64LocalUse = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');
const sixToFour = ipaddr.IPv6.parseCIDR('2002::/16');

function isPublic(address: Address): boolean {
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  const ipv6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(ipv6);
  if (embedded !== undefined) return embedded !== 'refused' && isPublic(embedded);
  // Site-local (deprecated, RFC 3879) is still routed inside some networks.
  if (ipv6.match(siteLocal)) return false;
  return ipv6.range() === 'unicast';
}

/**
 * The IPv4 address an IPv6 address stands for, where it stands for one: the connection reaches that
 * IPv4 host (directly, or through a translator or relay), so it is judged by it. `refused` for
 * forms that are never a webhook destination, whatever they carry.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | 'refused' | undefined {
  const bytes = address.toByteArray();
  // IPv4-mapped ::ffff:a.b.c.d, and the translated form ::ffff:0:a.b.c.d (RFC 6145).
  if (address.match(ipv4Mapped) || address.match(ipv4Translated)) return new ipaddr.IPv4(bytes.slice(12, 16));
  // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291); the block also holds `::` and `::1`.
  if (address.match(ipv4Compatible)) return 'refused';
  // Well-known NAT64 prefix (RFC 6052): how an IPv6-only network reaches IPv4 hosts.
  if (address.match(nat64WellKnown)) return new ipaddr.IPv4(bytes.slice(12, 16));
  // Local-use NAT64 (RFC 8215) translates into the operator's own networks.
  if (address.match(nat64LocalUse)) return 'refused';
  // 6to4 2002:AABB:CCDD::/48 (RFC 3056) carries a.b.c.d in its second and third groups.
  if (address.match(sixToFour)) return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}
