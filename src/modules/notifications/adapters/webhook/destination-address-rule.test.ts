import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DestinationAddressRule } from './destination-address-rule.ts';

const refused: [string, string][] = [
  ['loopback', '127.0.0.1'], ['loopback, elsewhere in 127/8', '127.8.9.10'], ['IPv6 loopback', '::1'],
  ['RFC 1918 10/8', '10.0.0.1'], ['RFC 1918 172.16/12', '172.31.255.254'], ['RFC 1918 192.168/16', '192.168.1.1'],
  ['shared address space 100.64/10', '100.64.0.1'], ['link-local (cloud metadata)', '169.254.169.254'], ['IPv6 link-local', 'fe80::1'],
  ['unique-local', 'fd00::1'], ['unique-local fc00::/8', 'fc00::1'], ['site-local', 'fec0::1'],
  ['multicast', '224.0.0.1'], ['IPv6 multicast', 'ff02::1'], ['broadcast', '255.255.255.255'], ['class E', '240.0.0.1'],
  ['unspecified', '0.0.0.0'], ['this network 0/8', '0.1.2.3'], ['IPv6 unspecified', '::'],
  ['documentation 192.0.2/24', '192.0.2.1'], ['documentation 198.51.100/24', '198.51.100.7'], ['documentation 203.0.113/24', '203.0.113.9'],
  ['IPv6 documentation', '2001:db8::1'], ['benchmarking', '198.18.0.1'], ['IETF protocol assignments', '192.0.0.170'],
  ['IPv4-mapped loopback, dotted', '::ffff:127.0.0.1'], ['IPv4-mapped loopback, hex', '::ffff:7f00:1'], ['IPv4-mapped private', '::ffff:10.0.0.1'],
  ['IPv4-translated loopback', '::ffff:0:7f00:1'], ['IPv4-compatible loopback', '::7f00:1'], ['IPv4-compatible public', '::808:808'],
  ['NAT64 of link-local', '64:ff9b::a9fe:a9fe'], ['NAT64 of loopback', '64:ff9b::127.0.0.1'], ['local-use NAT64', '64:ff9b:1::808:808'],
  ['6to4 of private', '2002:a00:1::1'], ['6to4 of loopback', '2002:7f00:1::'], ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['discard-only', '100::1'],
  ['a host name', 'example.com'], ['shorthand IPv4', '2130706433'], ['hex IPv4', '0x7f.1'], ['a zone index', 'fe80::1%eth0'], ['nothing', ''],
];
const allowed: [string, string][] = [
  ['public IPv4', '93.184.215.14'], ['public IPv6', '2606:4700:4700::1111'], ['public IPv6 in brackets', '[2606:4700:4700::1111]'],
  ['IPv4-mapped public', '::ffff:93.184.215.14'], ['NAT64 of public', '64:ff9b::5db8:d70e'], ['6to4 of public', '2002:5db8:d70e::1'],
  ['just outside 172.16/12', '172.32.0.1'], ['just outside 100.64/10', '100.128.0.1'],
];

describe('DestinationAddressRule', () => {
  for (const [what, address] of refused) {
    test(`when the address is ${what} (${address || 'empty'}), then it is refused`, () => {
      assert.equal(new DestinationAddressRule().allows(address), false);
    });
  }
  for (const [what, address] of allowed) {
    test(`when the address is ${what} (${address}), then it is allowed`, () => {
      assert.equal(new DestinationAddressRule().allows(address), true);
    });
  }

  test('when networks are allowed, then addresses inside them pass, in IPv4-mapped form too, and neighbours stay refused', () => {
    const rule = new DestinationAddressRule(['127.0.0.1/32', '::1', '10.1.0.0/16']);
    assert.deepEqual(
      ['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.1.2.3', '127.0.0.2', '10.2.0.1', '169.254.169.254'].map((address) => rule.allows(address)),
      [true, true, true, true, false, false, false],
    );
  });

  test('when an allowed network is not an address or CIDR, then the rule is not built', () => {
    assert.throws(() => new DestinationAddressRule(['localhost']), /"localhost" is neither an IP address nor a CIDR/);
  });
});
