import { randomUUID } from 'node:crypto';
import { currentContext } from '../logging/request-context.ts';
import { currentTraceparent } from '../observability/tracing.ts';

/** What travels on the wire for every integration event and command, whatever the transport. */
export interface Envelope<Payload = unknown> {
  id: string;
  /** `<module>.<event-name>`, e.g. `catalog.product-changed`. */
  type: string;
  version: number;
  /** Aggregate id: messages with one key stay in order (the Kafka partition key). */
  key: string;
  occurredAt: string;
  traceparent?: string;
  requestId?: string;
  payload: Payload;
}

/**
 * Wraps a payload in an envelope, taking the request id of the work in progress and, with tracing
 * on, the active span as `traceparent`, so the consumers' spans continue the producer's trace.
 */
export function createEnvelope<Payload>(message: { type: string; version: number; key: string; payload: Payload; occurredAt?: Date }): Envelope<Payload> {
  const { requestId } = currentContext();
  const traceparent = currentTraceparent();
  return {
    id: randomUUID(),
    type: message.type,
    version: message.version,
    key: message.key,
    occurredAt: (message.occurredAt ?? new Date()).toISOString(),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(requestId === undefined ? {} : { requestId }),
    payload: message.payload,
  };
}

/** One topic per publishing module and version: `orderstream.catalog.v1`. */
export function topicOf(envelope: Pick<Envelope, 'type' | 'version'>): string {
  const module = envelope.type.split('.')[0] ?? envelope.type;
  return `orderstream.${module}.v${envelope.version}`;
}
