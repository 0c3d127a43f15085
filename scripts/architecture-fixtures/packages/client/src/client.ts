import { Problem } from './errors.ts'; // allowed: the package's own files
import { createLogger } from '../../../src/platform/logging/logger.ts'; // VIOLATION client-stands-alone: the server's code

export const client = [Problem, createLogger];
