import { start } from '../src/apps/main.ts'; // allowed: tools sit on top of the composition roots
import { probe } from '../test/e2e/harness/probe.ts'; // VIOLATION test-harness-for-tests: test/ is for tests

export const runner = [start, probe];
