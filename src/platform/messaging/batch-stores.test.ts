import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Transaction } from 'kysely';
import { batchStores } from './batch-stores.ts';
import { createEnvelope } from './envelope.ts';

test('when two batches run at once, then each transaction has its own store, written by its own finishBatch, and a lone message has none', async () => {
  const written: string[] = [];
  const transactionNamed = (name: string) => ({ name }) as unknown as Transaction<object>;
  const nameOf = (transaction: Transaction<object>) => (transaction as unknown as { name: string }).name;
  const batches = batchStores((envelopes, transaction) => {
    const name = `${nameOf(transaction)}:${String(envelopes.length)}`;
    return Promise.resolve({ name, write: () => { written.push(name); return Promise.resolve(); } });
  });
  const first = transactionNamed('first');
  const second = transactionNamed('second');
  const alone = transactionNamed('alone');
  const envelope = () => createEnvelope({ type: 'test.happened', version: 1, key: 'k', payload: {} });

  await batches.lockForBatch([envelope(), envelope()], first);
  await batches.lockForBatch([envelope(), envelope(), envelope()], second);

  assert.equal(batches.of(first)?.name, 'first:2');
  assert.equal(batches.of(second)?.name, 'second:3');
  assert.equal(batches.of(alone), undefined);
  await batches.finishBatch([], second);
  await batches.finishBatch([], first);
  await batches.finishBatch([], alone);
  assert.deepEqual(written, ['second:3', 'first:2']);
});
