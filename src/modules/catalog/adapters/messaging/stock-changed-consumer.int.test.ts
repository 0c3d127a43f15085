import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import {
  createEnvelope, createMessaging, handleOnce, InProcessTransport, messagingMigrations, topicOf, type Envelope, type MessageConsumer,
} from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { inventoryMessages } from '../../../inventory/contract.ts';
import { RecordReportedStock } from '../../application/record-reported-stock.ts';
import type { ReportedStock } from '../../domain/availability.ts';
import { catalogMigrations } from '../../index.ts';
import { stockChangedConsumer } from './stock-changed-consumer.ts';

let db: Database;
let drop: () => Promise<void>;
let consumer: MessageConsumer;
let recorded: ReportedStock[];
let transport: InProcessTransport;

before(async () => {
  ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, catalogMigrations]));
  consumer = stockChangedConsumer({ recordReportedStock: new RecordReportedStock(), recorded: (reports) => { recorded.push(...reports); } });
  transport = new InProcessTransport();
  // Not started: the test publishes itself, so each publish is one batch for the consumer.
  createMessaging({ db, transport, logger: createLogger({ level: 'silent' }), retryPolicy: { maxAttempts: 3, baseDelayMs: 10 }, pollIntervalMs: 60_000 })
    .register(consumer);
});
after(async () => {
  await transport.close();
  await drop();
});
beforeEach(() => { recorded = []; });

function stockChanged(sku: string, available: number, stockVersion: number): Envelope {
  return createEnvelope({ ...inventoryMessages.stockChanged, key: sku, payload: { sku, available, stockVersion } });
}

async function publish(...envelopes: Envelope[]): Promise<void> {
  await transport.publish(envelopes.map((envelope) => ({ topic: topicOf(envelope), envelope })));
}

async function storedStock(sku: string): Promise<{ available: number; stockVersion: number } | undefined> {
  const result = await sql<{ available: number; stockVersion: number }>`
    select available, stock_version as "stockVersion" from catalog.reported_stock where sku = ${sku}`.execute(db);
  return result.rows[0];
}

describe('catalog.reported-stock', () => {
  test('when a batch announcement of several SKUs arrives with a single one, then each SKU keeps its newest report', async () => {
    await publish(stockChanged('LEVELS-1', 9, 5));
    const batch = createEnvelope({
      ...inventoryMessages.stockLevelsChanged, key: 'batch:import-1:1-2',
      payload: { levels: [{ sku: 'LEVELS-1', available: 3, stockVersion: 4 }, { sku: 'LEVELS-2', available: 7, stockVersion: 1 }] },
    });
    await publish(batch);
    assert.deepEqual(await storedStock('LEVELS-1'), { available: 9, stockVersion: 5 }, 'the older report in the batch is ignored');
    assert.deepEqual(await storedStock('LEVELS-2'), { available: 7, stockVersion: 1 });
    assert.deepEqual(recorded.filter((report) => report.sku === 'LEVELS-2'), [{ sku: 'LEVELS-2', available: 7, stockVersion: 1 }]);
  });

  test('when the same report is delivered twice, then it is recorded once and heard of once', async () => {
    const report = stockChanged('TWICE-1', 6, 2);
    await publish(report);
    await publish(report);
    assert.equal(await handleOnce(db, consumer.name, report, (transaction) => consumer.handle(report, transaction)), 'duplicate');

    assert.deepEqual(await storedStock('TWICE-1'), { available: 6, stockVersion: 2 });
    assert.deepEqual(recorded, [{ sku: 'TWICE-1', available: 6, stockVersion: 2 }]);
  });

  test('when reports of one SKU come out of order in one batch, then the one of the highest stock version is kept', async () => {
    await publish(stockChanged('BATCH-1', 3, 3), stockChanged('BATCH-1', 1, 5), stockChanged('BATCH-2', 8, 1), stockChanged('BATCH-1', 2, 4));

    assert.deepEqual(await storedStock('BATCH-1'), { available: 1, stockVersion: 5 });
    assert.deepEqual(await storedStock('BATCH-2'), { available: 8, stockVersion: 1 });
  });

  test('when a report of an older stock version arrives after a newer one, then the newer quantity stays', async () => {
    await publish(stockChanged('LATE-1', 4, 7));
    await publish(stockChanged('LATE-1', 9, 6));
    assert.deepEqual(await storedStock('LATE-1'), { available: 4, stockVersion: 7 });

    await publish(stockChanged('LATE-1', 9, 6), stockChanged('LATE-1', 10, 5));
    assert.deepEqual(await storedStock('LATE-1'), { available: 4, stockVersion: 7 });

    await publish(stockChanged('LATE-1', 0, 8));
    assert.deepEqual(await storedStock('LATE-1'), { available: 0, stockVersion: 8 });
  });

  test('when a report breaks the contract, then handling it fails and records nothing', async () => {
    for (const payload of [{ sku: 'BAD-1', available: -1, stockVersion: 1 }, { sku: 'BAD-1', available: 2 }, { sku: '', available: 2, stockVersion: 1 }]) {
      const envelope = createEnvelope({ ...inventoryMessages.stockChanged, key: 'BAD-1', payload });
      await assert.rejects(handleOnce(db, consumer.name, envelope, (transaction) => consumer.handle(envelope, transaction)), /payload is not valid/);
    }
    const newer = createEnvelope({ ...inventoryMessages.stockChanged, version: 2, key: 'BAD-1', payload: { sku: 'BAD-1', available: 2, stockVersion: 1 } });
    await assert.rejects(handleOnce(db, consumer.name, newer, (transaction) => consumer.handle(newer, transaction)), /version 2 is not understood/);
    assert.equal(await storedStock('BAD-1'), undefined);
  });
});
