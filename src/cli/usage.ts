import { parseArgs } from 'node:util';

/** What `orderstream help` prints; scripts/docs-truth.test.ts checks the docs against its command list. */
export const usage = `Usage: orderstream <command> [options]

Commands:
  start [--role all]   Run OrderStream (default: every module in one process)
        --role api     The HTTP API, messaging and background work; queues jobs but runs none
        --role worker  Messaging, background work and the job workers; no HTTP listener
        --role gateway The public edge in front of services listed in GATEWAY_UPSTREAMS
                       (no database); services behind it set the same GATEWAY_SECRET
        --role identity|catalog|inventory|orders|payments|notifications|jobs
                       One service of the services shape (several: --role orders,payments),
                       each on its own *_DATABASE_URL, messages through KAFKA_BROKERS
  migrate              Apply pending database migrations and exit
  seed                 Create demo users and a demo catalogue with stock (safe to run again)
  users grant-admin EMAIL   Give an account the admin role (its older access tokens are refused at once)
  users revoke-sessions EMAIL   End every session of an account: refresh and access tokens refused at once
  users disable EMAIL  Disable an account: no sign-in or refresh, every session and token revoked
  users enable EMAIL   Enable a disabled account again
  keys rotate          Make a new token signing key current now
  keys rewrap          Re-encrypt the stored signing keys under IDENTITY_KEY_ENCRYPTION_KEY (after a rotation
                       of it, with the old one in IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS)
                       These act on the services shape when services up runs it (in --dir),
                       else on the single process; --shape single|services chooses
  bench [--shape single|services] [--duration 10s] [--connections 16] [--scenario NAME] [--saga-rate N] [--results-dir DIR] [--docs FILE|none]
                       Benchmark OrderStream on a fresh embedded database (npm run bench); see docs/benchmarks.md
  services up [--port 8080] [--database-prefix orderstream_] [--dir .data/services]
                       The services shape on this machine, in the background (npm run services): nginx on
                       --port in front of two gateways, a process per service with a database each on
                       DATABASE_URL's server, Kafka at KAFKA_BROKERS (else infra/kafka/run.sh), Redis
  services status [--dir DIR]  What runs and whether it is ready (exit 1 when something is not)
  services down [--dir DIR] [--purge]
                       Stop everything services up started; --purge then also deletes the run's
                       Kafka topics and consumer groups, its databases and the folder
  blueprint [--out docs/blueprint]
                       Write the architecture's views (modules, saga, data model, HTTP API, events,
                       deployment shapes) as Markdown with Mermaid, read from the code and a temporary
                       database migrated on DATABASE_URL's server (else the embedded one)
  help                 Show this text

Configuration comes from environment variables; see README.md.`;

/** A mistake in the command line: its message is printed alone and the command exits 2. */
export class UsageError extends Error {}

/** The arguments, with a mistyped option reported as the usage mistake it is rather than a crash. */
export function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv, allowPositionals: true,
      options: {
        role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' },
        // bench
        shape: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, scenario: { type: 'string' }, 'saga-rate': { type: 'string' }, 'results-dir': { type: 'string' }, docs: { type: 'string' },
        // services
        dir: { type: 'string' }, port: { type: 'string' }, 'database-prefix': { type: 'string' }, purge: { type: 'boolean' },
        // blueprint
        out: { type: 'string' },
      },
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }
    throw error;
  }
}

/** The options of every command, as parsed. */
export type CommandLineValues = ReturnType<typeof parseCommandLine>['values'];

/** The options that choose which OrderStream an admin command acts on. */
export interface AdminTargetOptions { shape?: string; dir?: string }
