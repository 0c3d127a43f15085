/** The options of `orderstream services`: its defaults, its actions, its errors and the check of its command line. */

export const defaultServicesDir = '.data/services';
export const defaultApiPort = 8080;
export const defaultDatabasePrefix = 'orderstream_';
export const defaultServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
export const defaultRedisUrl = 'redis://127.0.0.1:6379';
export const servicesActions = ['up', 'down', 'status'] as const;
export type ServicesAction = (typeof servicesActions)[number];

/** A wrong argument or option of `orderstream services` (exit code 2). */
export class ServicesArgumentError extends Error {}
/** Something that stops `up` or `down`, said plainly (exit code 1). */
export class ServicesError extends Error {}

export interface ServicesOptions {
  /** The folder of pids, logs, secrets and nginx's files; relative to the working directory. */
  dir: string;
  /** Where nginx listens (127.0.0.1): the API's port. Undefined: the running plan's, else 8080. */
  port?: number;
  /** Databases are named `<prefix><role>`. Undefined: the running plan's, else `orderstream_`. */
  databasePrefix?: string;
  /** The PostgreSQL server the databases are made on (its own database is only used to make them). */
  serverUrl: string;
  redisUrl: string;
  /** Unset: the local broker of infra/kafka/run.sh, started when it is not running. */
  kafkaBrokers?: string;
  /** Unset: derived from the database prefix, so two folders sharing a broker never share topics. */
  kafkaNamespace?: string;
  /** Unset: derived from the database prefix. */
  redisKeyPrefix?: string;
  /** `down` only: after stopping, delete the run's Kafka topics and groups, its databases and the folder. */
  purge?: boolean;
  /** The environment the processes inherit (before the variables the runner sets). */
  env: NodeJS.ProcessEnv;
  /** Results (the table); defaults to standard output. */
  print?: (line: string) => void;
  /** Progress; defaults to standard error. */
  note?: (line: string) => void;
}

/** Checks the options of one `orderstream services` command; throws ServicesArgumentError. */
export function parseServicesArguments(positionals: readonly string[], values: { port?: string; 'database-prefix'?: string; purge?: boolean }): {
  action: ServicesAction; port?: number; databasePrefix?: string; purge?: boolean;
} {
  const [action, ...extra] = positionals;
  if (action === undefined || !(servicesActions as readonly string[]).includes(action)) {
    throw new ServicesArgumentError(action === undefined ? 'Say what to do: orderstream services up|down|status.' : `Unknown services action "${action}"; use up, down or status.`);
  }
  if (extra.length > 0) throw new ServicesArgumentError(`Unexpected argument "${extra.join(' ')}" after services ${action}.`);
  const chosen = action as ServicesAction;
  if (chosen !== 'up' && (values.port !== undefined || values['database-prefix'] !== undefined)) {
    throw new ServicesArgumentError(`--port and --database-prefix apply to services up only (services ${chosen} reads what up chose).`);
  }
  if (chosen !== 'down' && values.purge === true) throw new ServicesArgumentError(`--purge applies to services down only.`);
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535) {
      throw new ServicesArgumentError(`--port must be a port number (1-65535), not "${values.port}".`);
    }
    port = Number(values.port);
  }
  const databasePrefix = values['database-prefix'];
  if (databasePrefix !== undefined && !/^[a-z][a-z0-9_]{0,39}$/.test(databasePrefix)) {
    throw new ServicesArgumentError(`--database-prefix must be lower-case letters, digits and "_", starting with a letter (at most 40), not "${databasePrefix}".`);
  }
  return {
    action: chosen, ...(port === undefined ? {} : { port }), ...(databasePrefix === undefined ? {} : { databasePrefix }),
    ...(values.purge === true ? { purge: true } : {}),
  };
}

/** Where results and progress go: the options' functions, else standard output and standard error. */
export function printer(options: ServicesOptions) {
  return {
    print: options.print ?? ((line: string) => { process.stdout.write(`${line}\n`); }),
    note: options.note ?? ((line: string) => { process.stderr.write(`services: ${line}\n`); }),
  };
}
