import type { probe } from './harness/probe.ts'; // allowed: tests use the harness

export type Probe = typeof probe;
