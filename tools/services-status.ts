import path from 'node:path';
import { isOurProcess, readPidFile } from './background-process.ts';
import { httpStatus, tcpReachable } from './local-network.ts';
import { displayPath, exists, filesOf, type ServicesFiles } from './services-folder.ts';
import { printer, type ServicesOptions } from './services-options.ts';
import { readPlan, type ServicesPlan } from './services-plan.ts';

/** Prints each process's state; exit code 0 only when every one runs and is ready. */
export async function servicesStatus(options: ServicesOptions): Promise<number> {
  const { print } = printer(options);
  const files = filesOf(path.resolve(options.dir));
  const plan = await readPlan(files);
  if (plan === undefined) {
    print(`Nothing was started in ${displayPath(files.dir)} (orderstream services up starts it).`);
    return 1;
  }
  const rows = await statusRows(files, plan);
  printTable(print, files, plan, rows);
  return rows.every((row) => row.state === 'ready' || row.state === 'reachable') ? 0 : 1;
}

interface StatusRow {
  name: string;
  pid: string;
  state: 'ready' | 'not ready' | 'stopped' | 'reachable' | 'unreachable';
  url: string;
  metrics: string;
}

export async function statusRows(files: ServicesFiles, plan: ServicesPlan): Promise<StatusRow[]> {
  const rowOf = async (name: string, url: string, probe: () => Promise<number | undefined>, metrics: string): Promise<StatusRow> => {
    const pid = await readPidFile(files.pidOf(name));
    const running = pid !== undefined && await isOurProcess(pid, files.dir);
    if (!running) return { name, pid: '-', state: 'stopped', url, metrics };
    return { name, pid: String(pid), state: (await probe()) === 200 ? 'ready' : 'not ready', url, metrics };
  };
  const rows = await Promise.all([
    rowOf('nginx', `http://127.0.0.1:${plan.apiPort}`, () => httpStatus(plan.apiPort, '/nginx-health', 2000), '-'),
    ...plan.processes.map((planned) => rowOf(
      planned.name, `http://127.0.0.1:${planned.port}`, () => httpStatus(planned.opsPort, '/readyz', 3000), `http://127.0.0.1:${planned.opsPort}/metrics`,
    )),
  ]);
  const reachable = (await Promise.all(plan.kafkaBrokers.split(',').map((broker) => tcpReachable(broker, 2000)))).some(Boolean);
  const startedHere = plan.kafkaLocal && await exists(files.kafkaStarted);
  rows.push({
    name: 'kafka', pid: '-', state: reachable ? 'reachable' : 'unreachable', url: plan.kafkaBrokers,
    metrics: startedHere ? '(started by services up)' : plan.kafkaLocal ? '(infra/kafka/run.sh, not started by up)' : '(KAFKA_BROKERS)',
  });
  return rows;
}

export function printTable(print: (line: string) => void, files: ServicesFiles, plan: ServicesPlan, rows: readonly StatusRow[]): void {
  const lines = [['name', 'pid', 'state', 'url', 'metrics'], ...rows.map((row) => [row.name, row.pid, row.state, row.url, row.metrics])];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...lines.map((cells) => (cells[column] ?? '').length)));
  for (const cells of lines) {
    print(cells.map((cell, column) => (column === 1 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd());
  }
  print('');
  print(`API: http://127.0.0.1:${plan.apiPort}`);
  print(`Logs: ${displayPath(files.logs)}/<name>.log; databases ${plan.databasePrefix}<service>; Kafka topics ${plan.kafkaNamespace}.*`);
}
