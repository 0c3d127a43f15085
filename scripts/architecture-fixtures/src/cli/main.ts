import { loadHarness } from './checkout-tools.ts'; // allowed: the command line's door to the checkout's tools
import { harness } from '../../bench/harness.ts'; // VIOLATION image-leaves-out: the image has no bench/

export const main = [loadHarness, harness];
