import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, test } from 'node:test';
import { aPublicAddress, testResolver } from '../../testing/test-resolver.ts';
import { checkedLookup, DestinationRefusedError, ipLiteralOf, resolveAllowedAddresses } from './checked-lookup.ts';
import { DestinationAddressRule } from './destination-address-rule.ts';

const rule = new DestinationAddressRule();
const publicIPv6 = '2606:4700:4700::1111';

/** Calls a `lookup` the way `net.connect` does and returns what it called back with. */
function lookUp(options: { all?: boolean; family?: number }, table: Parameters<typeof testResolver>[0]) {
  const lookup = checkedLookup(rule, testResolver(table).resolveHost);
  return new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family: number | undefined }>((resolve) => {
    lookup('hooks.shop.test', options, (error, address, family) => { resolve({ error, address, family }); });
  });
}

describe('resolveAllowedAddresses', () => {
  test('when every address of the name is public, then they all come back, in order, after one lookup', async () => {
    const { resolveHost, lookups } = testResolver({ 'hooks.shop.test': [aPublicAddress, publicIPv6] });
    assert.deepEqual(await resolveAllowedAddresses('hooks.shop.test', rule, resolveHost), [
      { address: aPublicAddress, family: 4 }, { address: publicIPv6, family: 6 },
    ]);
    assert.deepEqual(lookups, ['hooks.shop.test']);
  });

  test('when one address of the name is internal, then the name is refused whole', async () => {
    const { resolveHost } = testResolver({ 'hooks.shop.test': [aPublicAddress, '::1'] });
    await assert.rejects(resolveAllowedAddresses('hooks.shop.test', rule, resolveHost), DestinationRefusedError);
  });

  test('when the host is an IP literal, then it is judged without a lookup', async () => {
    const { resolveHost, lookups } = testResolver({});
    await assert.rejects(resolveAllowedAddresses('[fd00::1]', rule, resolveHost), DestinationRefusedError);
    assert.deepEqual(await resolveAllowedAddresses(aPublicAddress, rule, resolveHost), [{ address: aPublicAddress, family: 4 }]);
    assert.deepEqual(lookups, []);
  });

  test('when the name does not resolve, then the resolver\'s error comes back', async () => {
    await assert.rejects(resolveAllowedAddresses('nowhere.shop.test', rule, testResolver({}).resolveHost), { code: 'ENOTFOUND' });
  });
});

describe('checkedLookup', () => {
  test('when net asks for all addresses, then it gets the checked list; asked for one, the first of the wanted family', async () => {
    const table = { 'hooks.shop.test': [aPublicAddress, publicIPv6] };
    assert.deepEqual((await lookUp({ all: true }, table)).address, [{ address: aPublicAddress, family: 4 }, { address: publicIPv6, family: 6 }]);
    assert.deepEqual(await lookUp({}, table), { error: null, address: aPublicAddress, family: 4 });
    assert.deepEqual(await lookUp({ family: 6 }, table), { error: null, address: publicIPv6, family: 6 });
  });

  test('when the name resolves to an internal address, then net gets the refusal as the lookup error', async () => {
    const { error } = await lookUp({ all: true }, { 'hooks.shop.test': ['10.0.0.1'] });
    assert.ok(error instanceof DestinationRefusedError);
  });

  test('when no address has the wanted family, then net gets ENOTFOUND', async () => {
    const { error } = await lookUp({ family: 6 }, { 'hooks.shop.test': [aPublicAddress] });
    assert.equal(error?.code, 'ENOTFOUND');
  });
});

describe('ipLiteralOf', () => {
  test('when the host is an address, with or without brackets, then it is the bare address; a name is undefined', () => {
    assert.deepEqual(['10.0.0.1', '[fd00::1]', 'hooks.shop.test', '[hooks]'].map(ipLiteralOf), ['10.0.0.1', 'fd00::1', undefined, undefined]);
  });
});
