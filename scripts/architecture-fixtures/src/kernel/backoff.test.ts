// allowed: a kernel test may use node:test and npm packages.
import type { test } from 'node:test';
import type { backoffDelayMs } from './backoff.ts';

export type Used = [typeof test, typeof backoffDelayMs];
