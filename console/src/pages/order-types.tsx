/** The order shapes the console reads (packages/client/openapi.json: Order, AdminOrder and the delivery pages). */

export interface Money { amount: number; currency: string }

export const orderStatuses = ['PENDING', 'RESERVED', 'AUTHORIZED', 'CONFIRMED', 'CANCELLING', 'CANCELLED'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export interface Order {
  id: string;
  status: OrderStatus;
  customerId: string;
  lines: { sku: string; name: string; quantity: number; unitPrice: Money; lineTotal: Money }[];
  total: Money;
  refunded: Money | null;
  cancellationReason: string | null;
  timeline: { step: string; at: string; detail?: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface AdminOrder extends Order { customerEmail: string }

export interface Page<T> { items: T[]; nextCursor: string | null }

export interface PaymentOperation {
  id: string;
  kind: 'authorize' | 'capture' | 'void' | 'refund';
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  outcome: string | null;
  lastError: string | null;
  amount: Money | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Delivery {
  id: string;
  eventType: string;
  status: 'pending' | 'sent' | 'dead' | 'cancelled';
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  sentAt: string | null;
  /** Email deliveries: the address. */
  to?: string;
  /** Webhook deliveries: the endpoint. */
  endpointId?: string;
}

/** An order's status as a small badge, told by its word (not only its colour). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status}</span>;
}
