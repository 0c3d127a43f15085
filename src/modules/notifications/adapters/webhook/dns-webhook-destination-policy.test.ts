import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aPublicAddress, testResolver } from '../../testing/test-resolver.ts';
import { DestinationAddressRule } from './destination-address-rule.ts';
import { DnsWebhookDestinationPolicy } from './dns-webhook-destination-policy.ts';

describe('DnsWebhookDestinationPolicy', () => {
  const { resolveHost } = testResolver({
    'shop.example.com': [aPublicAddress],
    'metrics.internal.test': ['10.0.0.5'],
    'localhost': ['127.0.0.1', '::1'],
  });
  const policy = new DnsWebhookDestinationPolicy({ rule: new DestinationAddressRule(), resolveHost, timeoutMs: 1000 });

  test('when the host resolves to public addresses only, then the URL is allowed', async () => {
    assert.equal(await policy.allows('https://shop.example.com/hooks'), true);
  });

  test('when the host resolves to an internal address, does not resolve, or is an internal literal, then the URL is refused', async () => {
    for (const url of ['http://metrics.internal.test/', 'http://localhost:9464/metrics', 'https://nowhere.shop.test/', 'http://[fd00::1]/']) {
      assert.equal(await policy.allows(url), false, url);
    }
  });

  test('when the resolver does not answer within the timeout, then the URL is refused', async () => {
    const hanging = new DnsWebhookDestinationPolicy({ rule: new DestinationAddressRule(), resolveHost: () => new Promise(() => undefined), timeoutMs: 50 });
    assert.equal(await hanging.allows('https://shop.example.com/hooks'), false);
  });

  test('when loopback is an allowed network, then a local receiver is allowed', async () => {
    const local = new DnsWebhookDestinationPolicy({ rule: new DestinationAddressRule(['127.0.0.0/8', '::1']), resolveHost, timeoutMs: 1000 });
    assert.equal(await local.allows('http://localhost:3000/hooks'), true);
    assert.equal(await local.allows('http://127.0.0.1:3000/hooks'), true);
    assert.equal(await local.allows('http://metrics.internal.test/'), false);
  });
});
