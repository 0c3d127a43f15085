import { start } from '../../../src/apps/main.ts'; // allowed: the harness drives composition roots

export const probe = [start];
