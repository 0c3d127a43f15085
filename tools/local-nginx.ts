import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * nginx as the load balancer of the local services shape: found (or installed from Debian's
 * packages), configured from `deploy/nginx/local.conf.template`, with its files under one folder.
 */

const projectRoot = path.resolve(import.meta.dirname, '..');
export const localNginxTemplate = path.join(projectRoot, 'deploy/nginx/local.conf.template');

/** The nginx executable: on PATH, or in an sbin folder (often missing from a non-root PATH). */
export function findNginx(): string | undefined {
  const folders = [...(process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== ''), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/homebrew/bin'];
  for (const folder of folders) {
    const candidate = path.join(folder, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why nginx can neither be found nor installed here, or undefined when it can be used. */
export function nginxUnavailableReason(): string | undefined {
  if (findNginx() !== undefined) return undefined;
  if (process.getuid?.() !== 0) return 'nginx is not installed, and installing it needs root: run `sudo apt-get install nginx` (or your system\'s package manager), then try again';
  if (!onPath('apt-get')) return 'nginx is not installed and there is no apt-get to install it with: install nginx, then try again';
  return undefined;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((folder) => {
    try {
      accessSync(path.join(folder, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  // Its output goes to our standard error: it is progress, not the command's result.
  const child = spawn(command, args, { env, stdio: ['ignore', process.stderr, process.stderr] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${String(code)})`);
}

/** The nginx executable, installed with apt-get first when it is missing and this process is root. */
export async function ensureNginx(note: (line: string) => void): Promise<string> {
  const found = findNginx();
  if (found !== undefined) return found;
  const reason = nginxUnavailableReason();
  if (reason !== undefined) throw new Error(reason);
  note('nginx is not installed: installing it from Debian\'s packages (apt-get update && apt-get install -y nginx)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], env);
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], env);
  const installed = findNginx();
  if (installed === undefined) throw new Error('apt-get installed nginx, but no nginx executable was found');
  return installed;
}

/**
 * nginx started as root runs its workers as an unprivileged user; without a `user` line it would
 * pick the group "nobody", which Debian does not have (it has "nogroup").
 */
function workerUserDirective(): string {
  if (process.getuid?.() !== 0) return '# Not started as root: the workers run as the same user.';
  const group = groupOfUser('nobody') ?? 'nogroup';
  return `user nobody ${group};`;
}

function groupOfUser(user: string): string | undefined {
  try {
    const gid = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':')).find((fields) => fields[0] === user)?.[3];
    if (gid === undefined) return undefined;
    return readFileSync('/etc/group', 'utf8').split('\n').map((line) => line.split(':')).find((fields) => fields[2] === gid)?.[0];
  } catch {
    return undefined;
  }
}

/** The files of one local nginx: its prefix folder (config, pid, scratch) and where it logs. */
export interface LocalNginxFiles {
  prefix: string;
  config: string;
  logs: string;
  /** What nginx itself writes (start-up errors, then `error_log`). */
  errorLog: string;
}

export function localNginxFiles(servicesDir: string): LocalNginxFiles {
  const prefix = path.join(servicesDir, 'nginx');
  const logs = path.join(servicesDir, 'logs');
  return { prefix, config: path.join(prefix, 'nginx.conf'), logs, errorLog: path.join(logs, 'nginx.log') };
}

/** Fills in the template: `{{name}}` for each value; a placeholder left unfilled is a mistake in the template. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const rendered = template.replace(/\{\{([a-z]+)\}\}/g, (placeholder, name: string) => values[name] ?? placeholder);
  const left = /\{\{[a-z]+\}\}/.exec(rendered);
  if (left !== null) throw new Error(`${localNginxTemplate}: nothing to fill in for ${left[0]}`);
  return rendered;
}

/** Writes nginx.conf for a listener on 127.0.0.1:`port` in front of `gateways` (host:port each), and checks it with `nginx -t`. */
export async function writeLocalNginxConfig(nginx: string, files: LocalNginxFiles, options: { port: number; gateways: readonly string[] }): Promise<void> {
  await mkdir(path.join(files.prefix, 'temp'), { recursive: true });
  await mkdir(files.logs, { recursive: true });
  const config = renderTemplate(await readFile(localNginxTemplate, 'utf8'), {
    user: workerUserDirective(),
    prefix: files.prefix,
    logs: files.logs,
    listen: `127.0.0.1:${options.port}`,
    gateways: options.gateways.map((gateway) => `        server ${gateway} max_fails=3 fail_timeout=10s;`).join('\n'),
  });
  await writeFile(files.config, config);
  const check = spawn(nginx, [...localNginxArguments(files), '-t', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  check.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  check.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const code = await new Promise<number | null>((resolve, reject) => {
    check.once('error', reject);
    check.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`nginx refuses ${files.config}:\n${output.trim()}`);
}

/** The arguments that point nginx at these files only: no system config, pid or log is touched. */
export function localNginxArguments(files: LocalNginxFiles): string[] {
  return ['-e', files.errorLog, '-p', files.prefix, '-c', files.config];
}
