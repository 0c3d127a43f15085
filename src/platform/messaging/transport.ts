import type { Envelope } from './envelope.ts';

/** A message leaving through the relay, addressed to its topic. */
export interface OutgoingMessage {
  topic: string;
  envelope: Envelope;
}

/** Receives one message for one consumer; resolves once the message is handled or durably set aside. */
export type DeliveryHandler = (envelope: Envelope) => Promise<void>;

/**
 * Receives many messages for one consumer, in the order they must be applied (per key, the publish
 * order); resolves once every one is handled or durably set aside.
 */
export type BatchDeliveryHandler = (envelopes: readonly Envelope[]) => Promise<void>;

/** A named consumer and the message types it wants. */
export interface Subscription {
  consumer: string;
  types: readonly string[];
  deliver: DeliveryHandler;
  /** Takes a whole batch at once (one transaction for all of it); a transport that has batches uses it when present. */
  deliverBatch?: BatchDeliveryHandler;
}

/**
 * Carries messages from the outbox relay to consumers (port). `publish` resolves only when the
 * transport has taken responsibility for every message: an in-process transport once each consumer
 * has handled it or recorded a retry; a broker once it has acknowledged the write.
 */
export interface MessageTransport {
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe(subscription: Subscription): void;
  close(): Promise<void>;
  /** A broker transport's unconsumed messages per consumer and partition (metrics); absent in process. */
  lag?(): Promise<readonly ConsumerLag[]>;
  /** Whether a broker transport's brokers answer now (readiness); absent in process. */
  isReachable?(): Promise<boolean>;
}

/** Messages of one partition a consumer has not consumed yet. */
export interface ConsumerLag {
  consumer: string;
  topic: string;
  partition: number;
  lag: number;
}
