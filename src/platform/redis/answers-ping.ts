import type { Redis } from 'ioredis';

/** True when Redis answers a PING within the connection's command timeout (readiness probes). */
export async function answersPing(redis: Redis): Promise<boolean> {
  try {
    await redis.ping();
    return true;
  } catch {
    return false;
  }
}
