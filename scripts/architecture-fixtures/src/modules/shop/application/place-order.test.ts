// allowed: a use-case test may use node:test and its module's in-memory adapters and builders.
import type { test } from 'node:test';
import type { placeOrder } from './place-order.ts';
import type { buildOrder } from '../testing/order-builder.ts';

export type Used = [typeof test, typeof placeOrder, typeof buildOrder];
