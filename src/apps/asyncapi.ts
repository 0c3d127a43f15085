import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RouteRegistration } from '../platform/http/app.ts';
import { documentedMessages, messageId, type DocumentedMessage, type MessageName } from './asyncapi-messages.ts';

/** A JSON document as the AsyncAPI document is made of. */
type Json = Record<string, unknown>;

const deliveryGuarantees = [
  'Every message is sent at least once, never lost: it is written to its module\'s outbox in the transaction of the change it announces, and the relay marks it sent only once the transport holds it (Kafka: acks=all, idempotent producer). A crash or a failed publish means it is sent again.',
  'Duplicates are therefore possible. Each consumer records every message id (`id`, also the `id` header) in its inbox in the transaction of its effect, so a message delivered twice takes effect once; another reader must deduplicate by `id` too.',
  'Order is kept per key most of the time, not always: the messages of one key (the Kafka key, the envelope\'s `key`) share a partition of their topic, and each module\'s consumer group reads a partition in order. Nothing orders messages across topics or across consumers, and a message being retried is overtaken by later ones of its key, so no consumer needs them in order to stay correct.',
  'A consumer that fails retries the message with a growing delay (MESSAGE_RETRY_BASE_MS, up to MESSAGE_MAX_ATTEMPTS attempts), durably in `messaging.retries`; after the last attempt it becomes a dead letter of that consumer, which an admin lists and replays at `/v1/admin/<module>/dead-letters`. A Kafka offset is committed only once every consumer of the group applied the message or recorded its retry.',
].join('\n\n');

const namespaceRule = 'Topics are `orderstream.<module>.v<version>`, one per module named by the message types\' first part and version (`inventory.reserve-stock` v1 travels on `orderstream.inventory.v1`), and each module\'s consumers read through one consumer group `orderstream.<module>`. With KAFKA_NAMESPACE set (lower-case letters, digits and `-`, no dot), every topic and group is prefixed by it and a dot (`staging.orderstream.orders.v1`), so several deployments share a cluster without reading each other\'s messages.';

const inProcess = 'The single process (`orderstream start`, no KAFKA_BROKERS) carries the same envelopes through an in-process transport instead: same messages, same outbox, inbox, retries and dead letters, no broker and no topics. The services shape (`--role <module>`) uses Kafka.';

const envelopeHeaders = {
  type: 'object',
  description: 'Kafka record headers: the envelope\'s fields that tools route and trace by without parsing the value. The record key is the envelope\'s `key`.',
  required: ['id', 'type', 'version'],
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The message id; inboxes deduplicate by it.' },
    type: { type: 'string', description: 'The message type, `<module>.<name>`.' },
    version: { type: 'string', pattern: '^[0-9]+$', description: 'The contract version of the payload, as a decimal string.' },
    traceparent: { type: 'string', description: 'W3C trace context of the producing span, present when tracing is on; consumers continue the trace.' },
    requestId: { type: 'string', description: 'The id of the HTTP request that caused the message, when there was one.' },
  },
};

/** The envelope, the Kafka record's value (JSON), around the payload of one message type. */
function envelopeSchema(message: MessageName, payload: z.ZodType): Json {
  // The dialect is the document's (AsyncAPI schemas are draft 7), so the payload's own `$schema` goes.
  const payloadSchema: Json = { ...z.toJSONSchema(payload, { target: 'draft-07', io: 'input', unrepresentable: 'any' }) };
  delete payloadSchema.$schema;
  return {
    type: 'object',
    required: ['id', 'type', 'version', 'key', 'occurredAt', 'payload'],
    properties: {
      id: { type: 'string', format: 'uuid', description: 'The message id; inboxes deduplicate by it.' },
      type: { type: 'string', const: message.type },
      version: { type: 'integer', const: message.version },
      key: { type: 'string', description: 'The aggregate the message is about (the order id for the order flow, the SKU for stock announcements); also the record key, so one key\'s messages share a partition.' },
      occurredAt: { type: 'string', format: 'date-time' },
      traceparent: { type: 'string', description: 'W3C trace context, when tracing is on.' },
      requestId: { type: 'string', description: 'The HTTP request that caused the message, when there was one.' },
      payload: payloadSchema,
    },
  };
}

/** One message of components.messages: its envelope, headers, Kafka key and who sends and reads it. */
function messageObject(message: DocumentedMessage): Json {
  const readers = message.consumers.map(({ module, consumer }) => `${consumer} (${module})`);
  return {
    name: message.type,
    title: `${message.type} v${message.version}`,
    summary: `Sent by ${message.publisher}; read by ${readers.length === 0 ? 'no module' : readers.join(', ')}.`,
    contentType: 'application/json',
    headers: envelopeHeaders,
    ...(message.payload === undefined ? {} : { payload: envelopeSchema(message, message.payload) }),
    bindings: { kafka: { key: { type: 'string', description: 'The envelope\'s `key`.' }, bindingVersion: '0.5.0' } },
  };
}

const channelMessage = (message: DocumentedMessage) => ({ $ref: `#/channels/${message.topic}/messages/${messageId(message)}` });

/** Messages grouped by a key, in first-seen order. */
function groupBy<Item>(items: readonly Item[], keyOf: (item: Item) => string): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

/** A channel per topic, with the messages that travel on it. */
function channelsOf(messages: readonly DocumentedMessage[]): Json {
  return Object.fromEntries([...groupBy(messages, (message) => message.topic)].map(([topic, onTopic]) => [topic, {
    address: `{namespacePrefix}${topic}`,
    title: topic,
    description: `The Kafka topic \`${topic}\` (with a namespace, \`<namespace>.${topic}\`).`,
    parameters: { namespacePrefix: { description: 'Empty, or KAFKA_NAMESPACE and a dot.', default: '', examples: ['', 'staging.'] } },
    messages: Object.fromEntries(onTopic.map((message) => [messageId(message), { $ref: `#/components/messages/${messageId(message)}` }])),
    bindings: { kafka: { bindingVersion: '0.5.0' } },
  }]));
}

/** A send operation per publishing module and topic, a receive operation per consumer and topic. */
function operationsOf(messages: readonly DocumentedMessage[]): Json {
  const operations: Json = {};
  for (const [key, sent] of groupBy(messages, (message) => `${message.publisher} ${message.topic}`)) {
    const [publisher = '', topic = ''] = key.split(' ');
    operations[`${publisher}.send.${topic}`] = {
      action: 'send', channel: { $ref: `#/channels/${topic}` }, title: `${publisher} sends on ${topic}`,
      summary: `The ${publisher} module's outbox relay publishes these.`, messages: sent.map(channelMessage),
    };
  }
  const reads = messages.flatMap((message) => message.consumers.map((reader) => ({ ...reader, message })));
  for (const [key, received] of groupBy(reads, (read) => `${read.consumer} ${read.message.topic}`)) {
    const [consumer = '', topic = ''] = key.split(' ');
    const { module = '', runsIn } = received[0] ?? {};
    const group = runsIn === undefined ? { type: 'string', enum: [`orderstream.${module}`] } : { type: 'string', description: runsIn };
    operations[`${consumer}.receive.${topic}`] = {
      action: 'receive', channel: { $ref: `#/channels/${topic}` }, title: `${consumer} (${module}) receives from ${topic}`,
      summary: `Consumer ${consumer} of the ${module} module, ${runsIn ?? 'in its module\'s consumer group'}, with its own inbox.`,
      messages: received.map((read) => channelMessage(read.message)),
      bindings: { kafka: { groupId: group, bindingVersion: '0.5.0' } },
    };
  }
  return operations;
}

/** The package's version, the document's. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

/**
 * The AsyncAPI 3.0 document of every message OrderStream sends, derived from the modules' message
 * declarations (asyncapi-messages.ts): their consumers' subscriptions and zod schemas.
 */
export function buildAsyncApiDocument(messages: readonly DocumentedMessage[] = documentedMessages()): Json {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'OrderStream messages', version: packageVersion(),
      description: `The integration events and commands OrderStream's modules send each other, each in an envelope.\n\n${deliveryGuarantees}`,
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{brokers}', protocol: 'kafka', title: 'Kafka (the services shape)',
        description: `${namespaceRule}\n\n${inProcess}`,
        variables: { brokers: { description: 'KAFKA_BROKERS: `host:port[,host:port...]`.', examples: ['127.0.0.1:9092'] } },
      },
    },
    channels: channelsOf(messages),
    operations: operationsOf(messages),
    components: { messages: Object.fromEntries(messages.map((message) => [messageId(message), messageObject(message)])) },
  };
}

/**
 * The message types of `declared` that `document` lacks, or shows without a payload schema, as
 * `<type> v<version>`: empty when the document covers them all.
 */
export function undocumentedMessages(document: Json, declared: readonly MessageName[]): string[] {
  const components = document.components as { messages?: Record<string, { payload?: unknown }> } | undefined;
  return declared
    .filter((message) => components?.messages?.[messageId(message)]?.payload === undefined)
    .map((message) => `${message.type} v${message.version}`);
}

/** GET /asyncapi.json: the document, built once. */
export function asyncApiRoutes(document: Json = buildAsyncApiDocument()): RouteRegistration {
  return (app) => {
    app.get('/asyncapi.json', { schema: { hide: true } }, (_request, reply) => reply.type('application/json').send(document));
  };
}
