import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { routePolicies } from '../../../src/apps/gateway/route-policies.ts';
import { burstFailures, livenessFailures, sendBurst, ServerLogs, statusCounts, type BurstAnswer, type BurstRequest, type LogMark } from './concurrent-burst.ts';
import { arrangeLoadFixture, normalRequests, routeBursts, signInRequests, type LoadFixture } from './route-bursts.ts';
import type { RunningShape } from './shapes.ts';

/** Three times the pool size of a load run (loadRunSettings): enough to find any unit of work that needs two connections. */
const burstSize = 12;
/** The longest a client waits for one whole answer; past it the request counts as hung. */
const answerTimeoutMs = 15_000;

/**
 * The load suite of one shape: it starts OrderStream with a small database pool, arranges data,
 * then calls every route of the route table with a burst of concurrent valid requests, one route
 * after another, and checks every answer comes in time and is a success, a client error or a 503
 * with Retry-After — never a hang, never another 5xx — and that the process still serves after.
 */
export function describeLoadSuite(options: { shape: string; skip: string | false; start: () => Promise<RunningShape> }): void {
  describe(`the ${options.shape} shape under bursts of concurrent requests`, { skip: options.skip }, () => {
    let running: RunningShape | undefined;
    let fixture: LoadFixture | undefined;
    let logs: ServerLogs;
    // Once the process stops answering, every later burst would only wait out its timeouts.
    let stoppedAnsweringAfter: string | undefined;
    const arranged = (): LoadFixture => {
      if (fixture === undefined) throw new Error('the load fixture was not arranged');
      return fixture;
    };
    const shape = (): RunningShape => {
      if (running === undefined) throw new Error('the shape did not start');
      return running;
    };
    const bursts = routeBursts(arranged);

    before(async () => {
      running = await options.start();
      logs = new ServerLogs(running.processes);
      const mark = logs.mark();
      try {
        fixture = await arrangeLoadFixture(running, burstSize);
      } catch (error) {
        // Arranging goes through the same API: a defect can show here first, so say what the server logged.
        await sleep(300);
        const logged = logs.errorsSince(mark);
        if (logged.length === 0) throw error;
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n\nlogged by the server:\n${logged.slice(0, 3).join('\n\n')}`, { cause: error });
      }
    });
    after(async () => {
      await running?.stop();
    });

    /** Sends `requests` at once and fails with every broken rule, explained from the server's log. */
    async function burst(route: string, requests: readonly BurstRequest[], expected: readonly number[]): Promise<BurstAnswer[]> {
      if (stoppedAnsweringAfter !== undefined) assert.fail(`not run: the process stopped answering after the burst on ${stoppedAnsweringAfter}`);
      const mark: LogMark = logs.mark();
      const answers = await sendBurst(shape().baseUrl, requests, answerTimeoutMs);
      let failures = burstFailures(route, answers, expected, logs, mark);
      if (failures.length > 0) {
        // A child's log line can arrive just after the answer it explains.
        await sleep(300);
        failures = burstFailures(route, answers, expected, logs, mark);
      }
      if (answers.some((answer) => answer.failure !== undefined)) {
        const dead = await livenessFailures(shape().baseUrl, normalRequests(arranged()), 5000);
        if (dead.length > 0) {
          stoppedAnsweringAfter = route;
          failures.push(`${route}: afterwards the process no longer serves:\n  ${dead.join('\n  ')}`);
        }
      }
      if (failures.length > 0) assert.fail(`${failures.join('\n\n')}\n\n(all answers: ${statusCounts(answers)})`);
      return answers;
    }

    async function assertStillServes(): Promise<void> {
      const failures = await livenessFailures(shape().baseUrl, normalRequests(arranged()), answerTimeoutMs);
      assert.deepEqual(failures, [], `the process no longer serves:\n${failures.join('\n')}`);
    }

    test('when the route table is read, then every route a client can call has a burst', () => {
      const covered = new Set(bursts.map((entry) => entry.route));
      assert.deepEqual(routePolicies.map((policy) => `${policy.method} ${policy.url}`).filter((route) => !covered.has(route)), []);
    });

    test('when 60 clients sign in at once, then each is answered in time with 200 or 503 with Retry-After, and the process still serves', async (context) => {
      const answers = await burst('POST /v1/auth/login', signInRequests(arranged(), 60), [200]);
      context.diagnostic(`60 sign-ins: ${statusCounts(answers)}; slowest ${String(slowest(answers))} ms`);
      await assertStillServes();
    });

    for (const entry of bursts) {
      test(`when ${String(burstSize)} clients call ${entry.route} at once, then each is answered in time with 2xx, 4xx or 503 with Retry-After`, async (context) => {
        const requests = await entry.requests(burstSize);
        const answers = await burst(entry.route, requests, entry.expected);
        context.diagnostic(`${entry.route}: ${statusCounts(answers)}; slowest ${String(slowest(answers))} ms`);
        entry.keep?.(answers);
      });
    }

    test('when every burst is over, then the process is ready and serves a normal request', async () => {
      await assertStillServes();
    });

    test('when every burst is over, then no unit of work asked the pool for a second connection while holding one', () => {
      const nested = [...new Set(logs.linesNaming('NestedConnectionError'))];
      assert.equal(nested.length, 0, `nested connection requests were logged:\n\n${nested.slice(0, 5).join('\n\n')}`);
    });
  });
}

function slowest(answers: readonly BurstAnswer[]): number {
  return Math.round(Math.max(0, ...answers.map((answer) => answer.elapsedMs)));
}
