// allowed: a domain test may use node:test, its domain and its module's testing/ folder.
import type { test } from 'node:test';
import type { createOrder } from './order.ts';
import type { buildOrder } from '../testing/order-builder.ts';

export type Used = [typeof test, typeof createOrder, typeof buildOrder];
