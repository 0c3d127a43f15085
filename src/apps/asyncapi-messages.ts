import type { z } from 'zod';
import { catalogMessageSchemas } from '../modules/catalog/index.ts';
import { identityMessageSchemas } from '../modules/identity/index.ts';
import { inventoryMessageSchemas } from '../modules/inventory/index.ts';
import { jobsMessageSchemas } from '../modules/jobs/index.ts';
import { notificationsMessageSchemas } from '../modules/notifications/index.ts';
import { ordersMessageSchemas } from '../modules/orders/index.ts';
import { paymentsMessageSchemas } from '../modules/payments/index.ts';
import { topicOf } from '../platform/messaging/index.ts';
import { moduleNames, type ModuleName } from './module-registry.ts';

/** A message type of a module's contract (`<module>Messages` / `<module>Events`). */
export interface MessageName {
  type: string;
  version: number;
}

/**
 * What a module declares beside its consumers (`adapters/messaging/<module>-message-schemas.ts`):
 * each consumer with the types it subscribes to and the schema it checks each payload with (the
 * consumer's `types` are taken from the same list), and what it sends that is not its own event
 * (commands to other modules) or that no consumer checks (with the publisher's schema).
 */
export interface ModuleMessageSchemas {
  consumers: readonly {
    consumer: string;
    reads: readonly { message: MessageName; payload: z.ZodType }[];
    /** Where it runs when not in its module's service, and so its consumer group. */
    runsIn?: string;
  }[];
  sends: readonly { message: MessageName; payload?: z.ZodType }[];
}

/** Every module's declaration; the compiler keeps it in step with the registry. */
export const moduleMessageSchemas: Readonly<Record<ModuleName, ModuleMessageSchemas>> = {
  identity: identityMessageSchemas,
  catalog: catalogMessageSchemas,
  inventory: inventoryMessageSchemas,
  orders: ordersMessageSchemas,
  payments: paymentsMessageSchemas,
  notifications: notificationsMessageSchemas,
  jobs: jobsMessageSchemas,
};

/** A consumer of a message: its module, its name and, when it runs elsewhere, where. */
export interface Reader {
  module: string;
  consumer: string;
  runsIn?: string;
}

/** One message type as the document shows it: its topic, who sends it, who reads it and its payload schema. */
export interface DocumentedMessage extends MessageName {
  /** `orderstream.<module>.v<version>`, before any namespace prefix. */
  topic: string;
  publisher: string;
  consumers: readonly Reader[];
  /** The first consumer's schema in registry order; the publisher's when no consumer reads it. */
  payload: z.ZodType | undefined;
}

/** `inventory.reserve-stock.v1`: a message's id in the document. */
export function messageId(message: MessageName): string {
  return `${message.type}.v${message.version}`;
}

/**
 * Every message type the modules declare, read or send, in registry order. A type's publisher is
 * the module that lists it in `sends`, else the module its name starts with (an event is named
 * after the module that publishes it; a command after the one that obeys it, and is listed by its
 * sender).
 */
export function documentedMessages(
  schemas: Readonly<Record<string, ModuleMessageSchemas>> = moduleMessageSchemas,
  modules: readonly string[] = moduleNames,
): DocumentedMessage[] {
  const messages = new Map<string, DocumentedMessage & { consumers: Reader[] }>();
  const entryOf = (message: MessageName) => {
    const id = messageId(message);
    let entry = messages.get(id);
    if (entry === undefined) {
      entry = {
        type: message.type, version: message.version, topic: topicOf(message),
        publisher: message.type.split('.')[0] ?? message.type, consumers: [], payload: undefined,
      };
      messages.set(id, entry);
    }
    return entry;
  };
  for (const module of modules) {
    for (const { consumer, reads, runsIn } of schemas[module]?.consumers ?? []) {
      for (const { message, payload } of reads) {
        const entry = entryOf(message);
        entry.consumers.push({ module, consumer, ...(runsIn === undefined ? {} : { runsIn }) });
        entry.payload ??= payload;
      }
    }
  }
  for (const module of modules) {
    for (const { message, payload } of schemas[module]?.sends ?? []) {
      const entry = entryOf(message);
      entry.publisher = module;
      entry.payload ??= payload;
    }
  }
  return [...messages.values()];
}
