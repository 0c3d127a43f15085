import type { harness } from '../../bench/harness.ts'; // allowed: a type-only import erases
import { runner } from '../../tools/runner.ts'; // VIOLATION checkout-tools-on-demand: a static import loads tools/ with every command

export const loadHarness = (): Promise<{ harness: typeof harness }> => import('../../bench/harness.ts'); // allowed: on demand
export const tools = [runner];
