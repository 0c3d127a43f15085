import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { createHttpApp } from '../platform/http/app.ts';
import { createLogger } from '../platform/logging/logger.ts';
import { asyncApiRoutes, buildAsyncApiDocument, undocumentedMessages } from './asyncapi.ts';
import { documentedMessages, moduleMessageSchemas, type MessageName } from './asyncapi-messages.ts';
import { moduleNames } from './module-registry.ts';

const document = buildAsyncApiDocument();

const isMessageName = (value: unknown): value is MessageName =>
  typeof value === 'object' && value !== null && typeof (value as MessageName).type === 'string' && typeof (value as MessageName).version === 'number';

/** Every message type of every module's contract: each `<module>Messages` or `<module>Events` const its index.ts exports. */
async function declaredMessages(): Promise<MessageName[]> {
  const declared: MessageName[] = [];
  for (const name of moduleNames) {
    const door = await import(`../modules/${name}/index.ts`) as Record<string, unknown>;
    for (const [exported, value] of Object.entries(door)) {
      if (!/^[a-z]+(Messages|Events)$/.test(exported) || typeof value !== 'object' || value === null) continue;
      declared.push(...Object.values(value).filter(isMessageName));
    }
  }
  return declared;
}

describe('the AsyncAPI document', () => {
  test('when @asyncapi/parser reads it, then it reports no error', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errorSeverity = new Set<number>([DiagnosticSeverity.Error]);
    const errors = diagnostics.filter((diagnostic) => errorSeverity.has(diagnostic.severity)).map((diagnostic) => `${diagnostic.path.join('/')}: ${diagnostic.message}`);
    assert.deepEqual(errors, []);
    assert.ok(parsed !== undefined);
    assert.equal(parsed.version(), '3.0.0');
  });

  test('when every module\'s contract is read, then each of its message types is in the document with a payload schema', async () => {
    const declared = await declaredMessages();
    assert.ok(declared.length >= 30, `only ${declared.length} message types found in the modules' contracts`);
    assert.deepEqual(undocumentedMessages(document, declared), []);
  });

  test('when a message type exists in code but not in the document, then the check names it', async () => {
    const declared = [...await declaredMessages(), { type: 'orders.planted', version: 1 }];
    assert.deepEqual(undocumentedMessages(document, declared), ['orders.planted v1']);
  });

  test('when a module sends a type no consumer reads and gives no schema, then the check names it', () => {
    const withoutSchema = {
      ...moduleMessageSchemas,
      jobs: { ...moduleMessageSchemas.jobs, sends: moduleMessageSchemas.jobs.sends.map(({ message }) => ({ message })) },
    };
    const partial = buildAsyncApiDocument(documentedMessages(withoutSchema));
    assert.deepEqual(undocumentedMessages(partial, [{ type: 'jobs.completed', version: 1 }, { type: 'orders.placed', version: 1 }]), ['jobs.completed v1']);
  });

  test('when a command is read, then its sender and each consumer have an operation on its topic', () => {
    const operations = document.operations as Record<string, { action: string; channel: { $ref: string } }>;
    assert.equal(operations['orders.send.orderstream.inventory.v1']?.action, 'send');
    assert.equal(operations['inventory.reserve-stock.receive.orderstream.inventory.v1']?.action, 'receive');
    assert.equal(operations['orders.saga.receive.orderstream.payments.v1']?.channel.$ref, '#/channels/orderstream.payments.v1');
    assert.equal(operations['payments.send.orderstream.inventory.v1'], undefined);
  });

  test('when the app is asked for /asyncapi.json, then it answers the document as JSON', async () => {
    const app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, routes: [asyncApiRoutes(document)], readiness: [] });
    try {
      const response = await app.inject({ method: 'GET', url: '/asyncapi.json' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.json(), document);
    } finally {
      await app.close();
    }
  });
});
