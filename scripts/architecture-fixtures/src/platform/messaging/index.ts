import { createLogger } from '../logging/logger.ts'; // allowed: platform uses platform

export async function appendToOutbox(id: string): Promise<void> {
  createLogger().info(id);
  await Promise.resolve();
}
