import { byCodeUnit, code, label, lines, mermaid, nodeId, page, table } from './markdown.ts';

/** A service of deploy/docker-compose.yml, anchors merged. */
export interface ComposeService {
  image?: string;
  command?: readonly string[] | string;
  environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  depends_on?: Readonly<Record<string, unknown>> | readonly string[];
  ports?: readonly (string | number)[];
}

export interface ComposeFile {
  services: Readonly<Record<string, ComposeService>>;
}

/** The single process as the registry makes it: its modules, each migrating its own schema into the one database. */
export interface SingleShape {
  modules: readonly { name: string; schema: string }[];
  /** Schemas every database has besides (messaging, audit). */
  sharedSchemas: readonly string[];
}

function environmentOf(service: ComposeService): [string, string][] {
  const environment = service.environment ?? {};
  const pairs: [string, string][] = Array.isArray(environment)
    ? (environment as readonly string[]).map((entry): [string, string] => [entry.split('=')[0] ?? entry, entry.slice(entry.indexOf('=') + 1)])
    : Object.entries(environment).map(([name, value]): [string, string] => [name, String(value ?? '')]);
  return pairs.sort(([left], [right]) => byCodeUnit(left, right));
}

function dependsOn(service: ComposeService): string[] {
  const depends = service.depends_on ?? [];
  return (Array.isArray(depends) ? [...(depends as readonly string[])] : Object.keys(depends)).sort(byCodeUnit);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Who talks to whom: a variable whose value names another service's host and port (a database URL,
 * KAFKA_BROKERS, GATEWAY_UPSTREAMS, CATALOG_SERVICE_URL) is an edge labelled by that variable; a
 * dependency no variable explains (nginx's upstreams are in its own config) is an edge without a label.
 */
function composeEdges(compose: ComposeFile): { from: string; to: string; via: string[] }[] {
  const names = Object.keys(compose.services).sort(byCodeUnit);
  const edges: { from: string; to: string; via: string[] }[] = [];
  for (const from of names) {
    const service = compose.services[from] ?? {};
    const environment = environmentOf(service);
    const targets = new Set([...dependsOn(service), ...names.filter((to) => to !== from && environment.some(([, value]) => hostPattern(to).test(value)))]);
    for (const to of [...targets].sort(byCodeUnit)) {
      const via = environment.filter(([, value]) => hostPattern(to).test(value)).map(([name]) => name);
      edges.push({ from, to, via });
    }
  }
  return edges;
}

function hostPattern(name: string): RegExp {
  return new RegExp(`(?:^|[/@=,;\\s])${escapeRegExp(name)}:\\d+`);
}

function roleOf(service: ComposeService): string | undefined {
  const command = typeof service.command === 'string' ? service.command.split(/\s+/) : [...(service.command ?? [])];
  const index = command.indexOf('--role');
  return command[0] === 'start' && index >= 0 ? command[index + 1] : undefined;
}

function composeNode(name: string, service: ComposeService): string {
  const role = roleOf(service);
  const image = service.image ?? '';
  if (role !== undefined) return `${nodeId(name)}[${lines([name, `orderstream start --role ${role}`])}]`;
  if (/^(postgres|redis)[:@]/.test(image)) return `${nodeId(name)}[(${lines([name, image])})]`;
  if (image.includes('kafka')) return `${nodeId(name)}[[${lines([name, image])}]]`;
  // A published port as it is by default (`${ORDERSTREAM_HTTP_PORT:-8080}:8080` → `8080:8080`).
  const ports = (service.ports ?? []).map((port) => String(port).replace(/\$\{\w+:-([^}]*)\}/g, '$1'));
  return `${nodeId(name)}[${lines([name, image, ...ports.map((port) => `port ${port}`)])}]`;
}

function servicesDiagram(compose: ComposeFile): string[] {
  const names = Object.keys(compose.services).sort(byCodeUnit);
  const out = ['flowchart TD', `  clients(${label('clients')})`];
  for (const name of names) out.push(`  ${composeNode(name, compose.services[name] ?? {})}`);
  for (const name of names.filter((candidate) => (compose.services[candidate]?.ports ?? []).length > 0)) out.push(`  clients --> ${nodeId(name)}`);
  for (const edge of composeEdges(compose)) {
    out.push(edge.via.length === 0 ? `  ${nodeId(edge.from)} --> ${nodeId(edge.to)}` : `  ${nodeId(edge.from)} -- ${label(edge.via.join(', '))} --> ${nodeId(edge.to)}`);
  }
  return out;
}

function singleDiagram(shape: SingleShape): string[] {
  const modules = [...shape.modules].sort((left, right) => byCodeUnit(left.name, right.name));
  const schemas = [...modules.map((module) => module.schema), ...shape.sharedSchemas].sort(byCodeUnit);
  return [
    'flowchart TD',
    `  clients(${label('clients')}) -- ${label('HTTP, PORT')} --> process`,
    `  process[${lines(['orderstream start', 'one process: every module, in-process messaging', ...modules.map((module) => module.name)])}]`,
    `  database[(${lines(['PostgreSQL: embedded, or DATABASE_URL', `one database, schemas: ${schemas.join(', ')}`])})]`,
    `  redis[(${label('Redis, optional')})]`,
    `  process -- ${label('DATABASE_URL')} --> database`,
    `  process -. ${label('REDIS_URL')} .-> redis`,
  ];
}

function serviceRows(compose: ComposeFile): string[][] {
  const edges = composeEdges(compose);
  return Object.keys(compose.services).sort(byCodeUnit).map((name) => {
    const service = compose.services[name] ?? {};
    const role = roleOf(service);
    const uses = edges.filter((edge) => edge.from === name).map((edge) => edge.to);
    return [code(name), role === undefined ? code(service.image ?? '') : code(`orderstream start --role ${role}`), uses.join(', ')];
  });
}

/** deployment.md: the single process, and the services shape as deploy/docker-compose.yml lays it out. */
export function renderDeployment(single: SingleShape, compose: ComposeFile): string {
  return page('Deployment shapes',
    'The single process is drawn from the module registry and each module\'s migrations (`src/apps/module-registry.ts`, `module-factories.ts`); the services shape from `deploy/docker-compose.yml`: its services, the variables that point one at another (an arrow is labelled by the variable naming its target) and their dependencies. `deploy/k8s/` and `orderstream services up` run the same services shape.',
    [
      '## One process',
      'Every module in one process on one database; messages travel in-process, with the same outbox and inbox. Redis is optional (shared rate limits behind a load balancer).',
      mermaid(singleDiagram(single)),
      '## Services',
      'nginx in front of two gateways; a process per module, each with its own database; Kafka between them; Redis for the gateways\' shared rate limits and the catalogue cache.',
      mermaid(servicesDiagram(compose)),
      table(['service', 'runs', 'talks to'], serviceRows(compose)),
    ]);
}
