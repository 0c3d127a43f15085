import { requireService } from '../../src/platform/testing/services.ts';
import { describeLoadSuite } from './harness/load-suite.ts';
import { loadRunSettings } from './harness/route-bursts.ts';
import { startServicesShape } from './harness/shapes.ts';

/**
 * The services shape (a process per service, each with a database pool of four, Kafka between
 * them) under the same bursts, sent through its gateway: every request is answered in time with a
 * success, a client error or a 503 with Retry-After, and the shape still serves afterwards.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const redis = process.env.REDIS_URL;

describeLoadSuite({
  shape: 'services',
  skip: kafka.skip,
  start: () => startServicesShape({
    kafkaBrokers: kafka.url ?? '',
    ...(redis === undefined || redis === '' ? {} : { redisUrl: redis }),
    env: loadRunSettings,
  }),
});
