import { start } from '../src/apps/main.ts'; // allowed: the benchmark sits on top of the composition roots

export const harness = [start];
