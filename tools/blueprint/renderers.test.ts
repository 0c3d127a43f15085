import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderEvents, renderHttpApi } from './api-tables.ts';
import type { CatalogTable } from './catalog.ts';
import { renderDataModel } from './data-model.ts';
import { renderDeployment } from './deployment.ts';
import { label } from './markdown.ts';
import { renderModuleMap, type ModuleMapInput } from './module-map.ts';
import { renderSagaSequence, type SagaDefinition } from './saga-sequence.ts';

const mapInput: ModuleMapInput = {
  modules: [
    { name: 'orders', databaseVariable: 'ORDERS_DATABASE_URL', routes: [{ method: 'POST', url: '/v1/orders', access: 'customer' }] },
    { name: 'inventory', databaseVariable: 'INVENTORY_DATABASE_URL', routes: [] },
  ],
  messages: [
    { type: 'inventory.reserve-stock', version: 1, publisher: 'orders', consumers: [{ module: 'inventory', consumer: 'inventory.reserve-stock' }] },
    { type: 'orders.placed', version: 1, publisher: 'orders', consumers: [] },
  ],
  contractUses: [{ from: 'orders', to: 'inventory', names: ['inventoryMessages'] }],
};

describe('the module map', () => {
  test('when the registry lists modules, then each is a node and each message an edge from publisher to consumer', () => {
    const page = renderModuleMap(mapInput);
    assert.match(page, /^ {2}orders\["orders<br\/>1 routes<br\/>ORDERS_DATABASE_URL"\]$/m);
    assert.match(page, /^ {2}inventory\["inventory<br\/>0 routes<br\/>INVENTORY_DATABASE_URL"\]$/m);
    assert.match(page, /^ {2}orders == "inventory\.reserve-stock v1" ==> inventory$/m);
    assert.match(page, /^ {2}orders == "orders\.placed v1" ==> unread$/m);
    assert.match(page, /^ {2}orders -\. "contract: messages" \.-> inventory$/m);
  });

  test('when a message is consumed by a module missing from the registry, then the map refuses to be drawn', () => {
    const input = { ...mapInput, messages: [...mapInput.messages, { type: 'orders.placed', version: 2, publisher: 'orders', consumers: [{ module: 'shipping', consumer: 'shipping.label' }] }] };
    assert.throws(() => renderModuleMap(input), /missing modules named by the code: shipping/);
  });

  test('when a module imports the contract of a module missing from the registry, then the map refuses to be drawn', () => {
    assert.throws(() => renderModuleMap({ ...mapInput, contractUses: [{ from: 'orders', to: 'billing', names: ['BillingClient'] }] }), /billing/);
  });
});

type Step = 'reserve-stock' | 'authorize-payment';
type Compensation = 'release-stock' | 'void-payment';

const saga: SagaDefinition<Step, Compensation> = {
  steps: [
    { step: 'reserve-stock', statusWhileRunning: 'PENDING', compensation: 'release-stock', succeeded: 'stock-reserved' },
    { step: 'authorize-payment', statusWhileRunning: 'RESERVED', compensation: 'void-payment', succeeded: 'payment-authorized' },
  ],
  compensationsFor: (steps) => [...(steps.includes('authorize-payment') ? ['void-payment' as const] : []), ...(steps.includes('reserve-stock') ? ['release-stock' as const] : [])],
  sends: ['inventory.reserve-stock', 'inventory.release-stock', 'payments.authorize-payment', 'payments.void-payment', 'orders.placed'].map((type) => ({ type, version: 1 })),
  reads: [{ type: 'inventory.reserved', version: 1 }, { type: 'payments.authorized', version: 1 }, { type: 'payments.declined', version: 1 }],
  placed: { type: 'orders.placed', version: 1 },
  confirmed: { type: 'orders.confirmed', version: 1 },
  cancelled: { type: 'orders.cancelled', version: 1 },
};

describe('the saga sequence', () => {
  test('when the definition is walked, then each step sends its command, gets its reply and a failure sends the compensations of the steps before it', () => {
    const page = renderSagaSequence(saga);
    const diagram = page.slice(page.indexOf('sequenceDiagram'), page.indexOf('## Cancelling'));
    const lines = diagram.split('\n').map((line) => line.trim());
    assert.ok(lines.includes('orders->>inventory: inventory.reserve-stock v1'));
    assert.ok(lines.includes('inventory-->>orders: inventory.reserved v1'));
    const failure = lines.indexOf('else authorize-payment fails');
    const timeout = lines.indexOf('else no answer before the step deadline', failure);
    assert.deepEqual(lines.slice(failure, timeout).filter((line) => line.startsWith('orders->>')), ['orders->>inventory: inventory.release-stock v1']);
    assert.deepEqual(lines.slice(timeout).filter((line) => line.startsWith('orders->>')), ['orders->>payments: payments.void-payment v1', 'orders->>inventory: inventory.release-stock v1']);
    assert.ok(lines.includes('orders-)subscribers: orders.confirmed v1'));
  });

  test('when a step has no message of its name among what orders sends, then the saga refuses to be drawn', () => {
    assert.throws(() => renderSagaSequence({ ...saga, sends: saga.sends.filter((message) => message.type !== 'payments.void-payment') }), /void-payment needs exactly one message/);
  });
});

const plantedTables: CatalogTable[] = [
  { schema: 'orders', name: 'orders', columns: [{ name: 'id', type: 'text', nullable: false }], primaryKey: ['id'], unique: [], foreignKeys: [] },
  {
    schema: 'orders', name: 'planted_notes',
    columns: [{ name: 'id', type: 'int8', nullable: false }, { name: 'order_id', type: 'text', nullable: true }, { name: 'tags', type: '_text', nullable: false }],
    primaryKey: ['id'], unique: [['order_id']],
    foreignKeys: [{ name: 'planted_notes_order_id_fkey', columns: ['order_id'], toSchema: 'orders', toTable: 'orders', toColumns: ['id'] }],
  },
];

describe('the data model', () => {
  test('when a table is planted in a module schema, then its erDiagram shows it with its keys and its reference', () => {
    const page = renderDataModel([{ schema: 'orders', owner: 'orders' }], plantedTables);
    assert.match(page, /^ {2}planted_notes \{\n {4}int8 id PK\n {4}text order_id FK, UK "nullable"\n {4}text_array tags\n {2}\}$/m);
    assert.match(page, /^ {2}orders \|o--o\{ planted_notes : "order_id"$/m);
    assert.match(page, /\| `orders\.planted_notes` \| id \| \(order_id\) \| \(order_id\) → orders\.orders \|/);
  });

  test('when a schema the migrations make has no table, then the data model refuses to be drawn', () => {
    assert.throws(() => renderDataModel([{ schema: 'payments', owner: 'payments' }], plantedTables), /no table in schema payments/);
  });
});

describe('the HTTP API and events tables', () => {
  const policies = [{ method: 'GET', url: '/v1/orders/:id', access: 'customer', upstream: 'orders' }];

  test('when an operation of the OpenAPI document has a policy, then its row shows its access and service', () => {
    const page = renderHttpApi({ paths: { '/v1/orders/{id}': { get: { summary: 'One order' } } } }, policies);
    assert.match(page, /\| GET \| `\/v1\/orders\/\{id\}` \| customer \| orders \| One order \|/);
  });

  test('when an operation has no policy in the route table, then the table refuses to be drawn', () => {
    assert.throws(() => renderHttpApi({ paths: { '/v1/secret': { post: {} } } }, policies), /POST \/v1\/secret .* no access policy/);
  });

  test('when the AsyncAPI document sends and receives a message, then its row names the publisher and the consumers', () => {
    const ref = '#/channels/orderstream.orders.v1/messages/orders.placed.v1';
    const page = renderEvents({
      operations: { 'orders.send.orderstream.orders.v1': { action: 'send', messages: [{ $ref: ref }] }, 'jobs.invoices.receive.orderstream.orders.v1': { action: 'receive', messages: [{ $ref: ref }] } },
      components: { messages: { 'orders.placed.v1': { title: 'orders.placed v1' } } },
    });
    assert.match(page, /\| `orders\.placed v1` \| `orderstream\.orders\.v1` \| orders \| jobs\.invoices \|/);
  });
});

describe('the deployment shapes', () => {
  test('when a service names another in a variable, then the edge is labelled by that variable; a bare dependency is an edge without one', () => {
    const page = renderDeployment({ modules: [{ name: 'orders', schema: 'orders' }], sharedSchemas: ['messaging'] }, {
      services: {
        nginx: { image: 'nginx:1', ports: ['${HTTP_PORT:-8080}:8080'], depends_on: ['gateway'] },
        gateway: { command: ['start', '--role', 'gateway'], environment: { GATEWAY_UPSTREAMS: 'orders=http://orders:8080' } },
        orders: { command: ['start', '--role', 'orders'], environment: { ORDERS_DATABASE_URL: 'postgres://u:p@orders-db:5432/orders' }, depends_on: { 'orders-db': {} } },
        'orders-db': { image: 'postgres:17' },
      },
    });
    assert.match(page, /^ {2}gateway -- "GATEWAY_UPSTREAMS" --> orders$/m);
    assert.match(page, /^ {2}orders -- "ORDERS_DATABASE_URL" --> orders_db$/m);
    assert.match(page, /^ {2}nginx --> gateway$/m);
    assert.match(page, /^ {2}nginx\["nginx<br\/>nginx:1<br\/>port 8080:8080"\]$/m);
    assert.match(page, /^ {2}orders_db\[\("orders-db<br\/>postgres:17"\)\]$/m);
  });
});

describe('Mermaid labels', () => {
  test('when a label holds quotes or angle brackets, then they are written as entities', () => {
    assert.equal(label('a "b" <c>'), '"a #quot;b#quot; #lt;c#gt;"');
  });
});
