import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteCoalescer } from './write-coalescer.ts';

/** A coalescer over in-memory "writes" that records what each write took. */
function recorder(options: { failTogether?: (items: readonly string[]) => boolean; failAlone?: (item: string) => boolean } = {}) {
  const writes: string[][] = [];
  const coalescer = new WriteCoalescer<string, string>({
    keyOf: (item) => item.split(':')[0] ?? item,
    together: async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (options.failTogether?.(items) === true) throw new Error('the batch failed');
      writes.push([...items]);
      return items.map((item) => `wrote ${item}`);
    },
    alone: async (item) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (options.failAlone?.(item) === true) throw new Error(`${item} failed`);
      writes.push([item]);
      return `wrote ${item}`;
    },
  });
  return { coalescer, writes };
}

test('when items arrive while a write runs, then they go together in the next write, in arrival order, each with its own result', async () => {
  const { coalescer, writes } = recorder();
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((item) => coalescer.write(item)));
  assert.deepEqual(results, ['wrote a', 'wrote b', 'wrote c', 'wrote d']);
  assert.deepEqual(writes, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(coalescer.counts(), { writes: 2, items: 4 });
});

test('when two waiting items share a key, then the second waits for the write after', async () => {
  const { coalescer, writes } = recorder();
  await Promise.all(['a', 'b:1', 'c', 'b:2'].map((item) => coalescer.write(item)));
  assert.deepEqual(writes, [['a'], ['b:1', 'c'], ['b:2']]);
});

test('when a write of several fails, then each is written alone and only the one that fails alone fails', async () => {
  const { coalescer, writes } = recorder({ failTogether: (items) => items.includes('poison'), failAlone: (item) => item === 'poison' });
  const results = await Promise.allSettled(['a', 'b', 'poison', 'c'].map((item) => coalescer.write(item)));
  assert.deepEqual(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)), ['wrote a', 'wrote b', 'poison failed', 'wrote c']);
  assert.deepEqual(writes, [['a'], ['b'], ['c']]);
  assert.deepEqual(coalescer.counts(), { writes: 3, items: 3 });
});
