import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { configSchema, loadConfig } from '../src/platform/config/config.ts';
import { createHttpApp } from '../src/platform/http/app.ts';
import { createLogger } from '../src/platform/logging/logger.ts';
import { routePolicies } from '../src/apps/gateway/route-policies.ts';
import { databaseVariableOf, moduleNames as moduleServiceRoles } from '../src/apps/module-registry.ts';
import { processRoles } from '../src/apps/single-process.ts';

/**
 * The deploy artifacts (Dockerfile, deploy/docker-compose.yml, deploy/nginx, deploy/k8s) cannot run
 * here (no Docker, no cluster), so this reads them and checks that they agree with the code:
 * variable names and values against the configuration schema, roles against the CLI, upstreams
 * against the route table, databases, ports, probes and secrets against each other.
 */

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// The roles `orderstream start --role` accepts: the single process's, the gateway, and the services'.
const cliRoles = [...processRoles, 'gateway', ...moduleServiceRoles];
// The services shape: one process per role (DESIGN.md), each deployed once (the gateway at least twice in compose).
const serviceRoles = ['gateway', ...moduleServiceRoles];
// Each role's own database, from the module registry; the gateway has none.
const databaseVariables: Record<string, string> = Object.fromEntries(moduleServiceRoles.map((role) => [role, databaseVariableOf(role)]));
const allDatabaseVariables = ['DATABASE_URL', ...Object.values(databaseVariables)];
// Mirrors `secretKeys` in src/platform/config/config.ts (not exported): values never written into an artifact.
const secretVariables = new Set([
  'DATABASE_URL', 'REDIS_URL', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL', 'IDENTITY_KEY_ENCRYPTION_KEY', 'IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS', 'GATEWAY_SECRET',
  'GATEWAY_SECRET_PREVIOUS', ...Object.values(databaseVariables),
]);
// Secrets of the other containers (PostgreSQL's POSTGRES_PASSWORD, ...).
const secretLookingName = /PASSWORD|SECRET|TOKEN|_KEY$/;
const probePaths = ['/healthz', '/readyz'];

/** The role that serves an upstream of the route table; undefined: any service role may (the documentation). */
function roleServing(upstream: string): string | undefined {
  if (upstream === 'docs') return undefined;
  return upstream;
}

/** Every upstream the gateway needs instances for: the route table's, and identity (its JWKS). */
const requiredUpstreams = [...new Set(['identity', ...routePolicies.map((policy) => policy.upstream).filter((name) => name !== 'gateway')])];

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction { keyword: string; args: string; stage: number }

function dockerfileInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + trimmed).trim();
    pending = '';
    const [keyword = '', ...rest] = whole.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage += 1;
    instructions.push({ keyword: upper, args: rest.join(' '), stage });
  }
  return instructions;
}

function dockerfileEnv(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions.filter((instruction) => instruction.keyword === 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const [name = '', value = ''] = pair.split('=', 2);
      env[name] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

const jsonArray = (args: string): string[] => z.array(z.string()).parse(JSON.parse(args));

/** A .dockerignore line as Docker reads it: relative to the context, `**` any folders, `*` and `?` within one; a folder takes its contents. */
function ignoredPath(pattern: string): RegExp {
  assert.ok(!pattern.startsWith('!'), `an exception (${pattern}) is not read here`);
  const source = pattern.replace(/^\/+|\/+$/g, '').split(/(\*\*\/?|\*|\?)/).map((part) => {
    if (part === '**/') return '(?:.*/)?';
    if (part === '**') return '.*';
    if (part === '*') return '[^/]*';
    if (part === '?') return '[^/]';
    return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${source}(?:/.*)?$`);
}

/** The files the runtime stage copies from the build context (not from another stage), after .dockerignore. */
function imageFiles(runtime: readonly Instruction[]): string[] {
  const ignored = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')).map(ignoredPath);
  const sources = runtime.filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.includes('--from='))
    .flatMap((instruction) => instruction.args.split(/\s+/).filter((arg) => !arg.startsWith('--')).slice(0, -1));
  return sources.flatMap((source) => {
    const files = statSync(path.join(root, source)).isDirectory()
      ? readdirSync(path.join(root, source), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
        .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      : [source];
    return files.filter((file) => !ignored.some((pattern) => pattern.test(file)));
  });
}

/** The relative modules a source file loads when it runs: static and dynamic imports and re-exports, not `import type`. */
function relativeImportsOf(text: string): string[] {
  const found = text.matchAll(/\b(?:import|export)\s+(type\s)?[^;'"]*?\bfrom\s+'(\.{1,2}\/[^']+)'|\bimport\s*\(\s*'(\.{1,2}\/[^']+)'\s*\)|\bimport\s+'(\.{1,2}\/[^']+)'/g);
  return [...found].flatMap(([, typeOnly, from, dynamic, bare]) => (typeOnly === undefined ? [from ?? dynamic ?? bare ?? ''] : [])).filter((specifier) => specifier !== '');
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const composeServiceSchema = z.looseObject({
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), scalar).default({}),
  healthcheck: z.looseObject({ test: z.array(z.string()) }).optional(),
  depends_on: z.record(z.string(), z.looseObject({ condition: z.string() })).default({}),
  networks: z.union([z.array(z.string()), z.record(z.string(), z.looseObject({ ipv4_address: z.string().optional() }).nullable())]).default([]),
  ports: z.array(z.string()).default([]),
  volumes: z.array(z.string()).default([]),
});
type ComposeService = z.infer<typeof composeServiceSchema>;
const composeSchema = z.looseObject({
  'x-orderstream': z.looseObject({ image: z.string() }),
  services: z.record(z.string(), composeServiceSchema),
});

function readCompose() {
  const compose = composeSchema.parse(parse(read('deploy/docker-compose.yml'), { merge: true }));
  const appServices = Object.entries(compose.services).filter(([, service]) => service.image === compose['x-orderstream'].image);
  return { compose, appServices };
}

/** A sample for a value the operator provides (`${NAME}`, a Secret's key): valid for the configuration. */
function sample(name: string): string {
  if (name === 'GATEWAY_SECRET' || name === 'IDENTITY_KEY_ENCRYPTION_KEY') return Buffer.alloc(32, 7).toString('base64');
  if (name.endsWith('DATABASE_URL')) return 'postgres://sample:sample@db.example:5432/sample';
  if (name === 'REDIS_URL') return 'redis://redis.example:6379';
  return 'sample';
}

const placeholder = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Compose's interpolation: `${NAME:-default}` gives its default, any other placeholder a sample; `$$` is a `$`. */
function interpolate(value: string): string {
  return value.replaceAll('$$', '\u0000')
    .replace(placeholder, (_match, name: string, operator: string | undefined, argument: string | undefined) => (operator?.endsWith('-') === true ? argument ?? '' : sample(name)))
    .replaceAll('\u0000', '$');
}

function resolvedEnvironment(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment).map(([name, value]) => [name, interpolate(value)]));
}

function roleOf(command: readonly string[] | undefined): string {
  assert.ok(command !== undefined, 'an OrderStream container names its command');
  assert.equal(command[0], 'start', `${JSON.stringify(command)} starts OrderStream`);
  const flag = command.findIndex((argument) => argument === '--role' || argument.startsWith('--role='));
  if (flag === -1) return 'all';
  const argument = command[flag] ?? '';
  return argument.includes('=') ? argument.slice('--role='.length) : command[flag + 1] ?? '';
}

function networkNames(service: ComposeService): string[] {
  return Array.isArray(service.networks) ? service.networks : Object.keys(service.networks);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const labels = z.record(z.string(), z.string());
const metadataSchema = z.looseObject({ name: z.string(), labels: labels.default({}) });
const manifestSchema = z.looseObject({ apiVersion: z.string(), kind: z.string(), metadata: metadataSchema });
const probeSchema = z.looseObject({ httpGet: z.looseObject({ path: z.string(), port: z.union([z.string(), z.number()]) }) });
const quantities = z.record(z.string(), z.union([z.string(), z.number()]));
const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).optional(),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number() })).default([]),
  envFrom: z.array(z.looseObject({ configMapRef: z.looseObject({ name: z.string() }) })).default([]),
  env: z.array(z.looseObject({
    name: z.string(),
    value: z.string().optional(),
    valueFrom: z.looseObject({ secretKeyRef: z.looseObject({ name: z.string(), key: z.string() }) }).optional(),
  })).default([]),
  readinessProbe: probeSchema.optional(),
  livenessProbe: probeSchema.optional(),
  startupProbe: probeSchema.optional(),
  resources: z.looseObject({ requests: quantities.default({}), limits: quantities.default({}) }).default({ requests: {}, limits: {} }),
  securityContext: z.looseObject({ runAsNonRoot: z.boolean().optional(), runAsUser: z.number().optional(), allowPrivilegeEscalation: z.boolean().optional() }).default({}),
});
type Container = z.infer<typeof containerSchema>;
const deploymentSchema = z.looseObject({
  metadata: metadataSchema,
  spec: z.looseObject({
    replicas: z.number().optional(),
    selector: z.looseObject({ matchLabels: labels }),
    template: z.looseObject({
      metadata: z.looseObject({ labels }),
      spec: z.looseObject({
        securityContext: z.looseObject({ runAsNonRoot: z.boolean().optional(), runAsUser: z.number().optional() }).default({}),
        containers: z.array(containerSchema).min(1),
      }),
    }),
  }),
});
type Deployment = z.infer<typeof deploymentSchema>;
const serviceSchema = z.looseObject({
  metadata: metadataSchema,
  spec: z.looseObject({ type: z.string().optional(), selector: labels, ports: z.array(z.looseObject({ name: z.string().optional(), port: z.number(), targetPort: z.union([z.string(), z.number()]) })) }),
});
type Service = z.infer<typeof serviceSchema>;
const configMapSchema = z.looseObject({ metadata: metadataSchema, data: z.record(z.string(), z.string()) });
const secretSchema = z.looseObject({ metadata: metadataSchema, stringData: z.record(z.string(), z.string()), data: z.never().optional() });
const hpaSchema = z.looseObject({
  apiVersion: z.string(),
  metadata: metadataSchema,
  spec: z.looseObject({
    scaleTargetRef: z.looseObject({ apiVersion: z.string(), kind: z.string(), name: z.string() }),
    minReplicas: z.number(),
    maxReplicas: z.number(),
    metrics: z.array(z.looseObject({ type: z.string(), resource: z.looseObject({ name: z.string() }).optional() })),
  }),
});
const ingressSchema = z.looseObject({
  metadata: metadataSchema,
  spec: z.looseObject({
    rules: z.array(z.looseObject({ http: z.looseObject({ paths: z.array(z.looseObject({
      backend: z.looseObject({ service: z.looseObject({ name: z.string(), port: z.looseObject({ name: z.string().optional(), number: z.number().optional() }) }) }),
    })) }) })),
  }),
});
const kustomizationSchema = z.looseObject({ resources: z.array(z.string()) });

const k8sDirectory = 'deploy/k8s';
const secretTemplateFile = 'secret.example.yaml';

function readKubernetes() {
  const files = readdirSync(path.join(root, k8sDirectory)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();
  const manifests: { file: string; manifest: z.infer<typeof manifestSchema>; raw: unknown }[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(read(`${k8sDirectory}/${file}`))) {
      assert.deepEqual(document.errors, [], `${file} is valid YAML`);
      const raw: unknown = document.toJS();
      if (raw === null) continue;
      manifests.push({ file, manifest: manifestSchema.parse(raw), raw });
    }
  }
  const ofKind = <T>(kind: string, schema: z.ZodType<T>) => manifests.filter((entry) => entry.manifest.kind === kind).map((entry) => schema.parse(entry.raw));
  const deployments = ofKind('Deployment', deploymentSchema);
  const services = ofKind('Service', serviceSchema);
  const configMaps = new Map(ofKind('ConfigMap', configMapSchema).map((configMap) => [configMap.metadata.name, configMap.data]));
  const secrets = manifests.filter((entry) => entry.manifest.kind === 'Secret');
  const kustomization = kustomizationSchema.parse(parse(read(`${k8sDirectory}/kustomization.yaml`)));
  return {
    files, manifests, deployments, services, configMaps, secrets, kustomization,
    hpas: ofKind('HorizontalPodAutoscaler', hpaSchema),
    ingresses: ofKind('Ingress', ingressSchema),
  };
}

function onlyContainer(deployment: Deployment): Container {
  const [container, ...others] = deployment.spec.template.spec.containers;
  assert.ok(container !== undefined && others.length === 0, `${deployment.metadata.name} runs one container`);
  return container;
}

/** A container's environment as the kubelet assembles it (ConfigMaps, then its own entries); Secrets give samples. */
function containerEnvironment(container: Container, configMaps: ReadonlyMap<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { configMapRef } of container.envFrom) {
    const data = configMaps.get(configMapRef.name);
    assert.ok(data !== undefined, `ConfigMap ${configMapRef.name} exists`);
    Object.assign(env, data);
  }
  for (const entry of container.env) {
    const key = entry.valueFrom?.secretKeyRef.key;
    env[entry.name] = entry.value ?? (key === undefined ? '' : sample(key));
  }
  return env;
}

/** The port numbers of a Service that lead to `containerPort` of the container it selects (by number or by the port's name). */
function servicePortReaching(service: Service, container: Container, containerPort: number): number[] {
  return service.spec.ports.filter(({ targetPort }) => targetPort === containerPort
    || container.ports.some((port) => port.name === targetPort && port.containerPort === containerPort)).map(({ port }) => port);
}

function deploymentSelectedBy(service: Service, deployments: readonly Deployment[]): Deployment | undefined {
  return deployments.find((deployment) => Object.entries(service.spec.selector).every(([key, value]) => deployment.spec.template.metadata.labels[key] === value));
}

// ---------------------------------------------------------------------------------------------
// Shared checks

function assertKnownVariables(source: string, names: Iterable<string>): void {
  const known = new Set(Object.keys(configSchema.shape));
  for (const name of names) assert.ok(known.has(name), `${source} sets ${name}, which configSchema (src/platform/config/config.ts) does not know`);
}

function assertValidConfiguration(source: string, env: Record<string, string>): void {
  try {
    const config = loadConfig(env);
    assert.equal(config.HOST, '0.0.0.0', `${source} listens on every interface of its container (HOST=0.0.0.0)`);
  } catch (error) {
    assert.fail(`${source}: ${(error as Error).message}`);
  }
}

function assertDatabase(source: string, role: string, env: Record<string, string>): string | undefined {
  const own = databaseVariables[role];
  for (const name of allDatabaseVariables.filter((variable) => variable !== own)) {
    assert.equal(env[name], undefined, `${source} (role ${role}) does not set ${name}: each service reaches only its own database`);
  }
  if (own === undefined) return undefined;
  assert.ok(env[own] !== undefined, `${source} (role ${role}) sets ${own}`);
  return own;
}

/** GATEWAY_UPSTREAMS names every upstream of the route table (or `*`), only those, at services that serve them. */
function assertUpstreams(source: string, value: string | undefined, target: (host: string, port: number) => { role: string } | string): void {
  assert.ok(value !== undefined, `${source} sets GATEWAY_UPSTREAMS`);
  const table = configSchema.shape.GATEWAY_UPSTREAMS.parse(value);
  for (const name of requiredUpstreams) {
    assert.ok(table[name] !== undefined || table['*'] !== undefined, `${source}: GATEWAY_UPSTREAMS has no instances for "${name}", an upstream of the route table`);
  }
  for (const [name, urls] of Object.entries(table)) {
    assert.ok(name === '*' || requiredUpstreams.includes(name), `${source}: GATEWAY_UPSTREAMS names "${name}", which no route uses`);
    for (const url of urls) {
      const { hostname, port } = new URL(url);
      const found = target(hostname, Number(port === '' ? 80 : port));
      assert.ok(typeof found !== 'string', `${source}: upstream ${name}=${url}: ${typeof found === 'string' ? found : ''}`);
      const expected = name === '*' ? undefined : roleServing(name);
      if (expected === undefined) assert.ok(found.role !== 'gateway', `${source}: upstream ${name} points at a service, not a gateway`);
      else assert.equal(found.role, expected, `${source}: upstream ${name}=${url} runs role ${expected}`);
    }
  }
}

/** Every service behind the gateways is on Kafka; the gateways and identity agree on the tokens' issuer and audience. */
function assertSharedSettings(source: string, processes: readonly { name: string; role: string; env: Record<string, string> }[]): void {
  const brokers = new Set<string | undefined>();
  const tokens = new Set<string>();
  for (const { name, role, env } of processes) {
    if (role !== 'gateway') {
      assert.ok(env.KAFKA_BROKERS !== undefined, `${source} ${name}: a service of the services shape sets KAFKA_BROKERS`);
      brokers.add(env.KAFKA_BROKERS);
    }
    if (role === 'gateway' || role === 'identity') {
      const config = loadConfig(env);
      tokens.add(`${config.IDENTITY_ISSUER} ${config.IDENTITY_AUDIENCE}`);
    }
  }
  assert.equal(brokers.size, 1, `${source}: every service uses the same Kafka`);
  assert.equal(tokens.size, 1, `${source}: the gateways verify the issuer and audience identity issues (IDENTITY_ISSUER, IDENTITY_AUDIENCE)`);
}

/** Values of secrets are placeholders: all of it (`${NAME}`), or the password of a URL. */
function assertPlaceholderSecret(source: string, name: string, value: string): void {
  const whole = /^\$\{[^}]+\}$/;
  const credentials = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.exec(value);
  if (credentials !== null) {
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(value)?.[1];
    assert.ok(password === undefined || whole.test(password), `${source}: ${name} carries a literal password; use a \${...} placeholder`);
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return; // an address without credentials (redis://redis:6379)
  assert.match(value, whole, `${source}: ${name} has a literal value; a secret is only ever a \${...} placeholder`);
}

const httpUrlPort = /127\.0\.0\.1:(?<port>\d+)?[^/]*(?<path>\/[\w-]+)/;

// ---------------------------------------------------------------------------------------------

describe('the Dockerfile', () => {
  const instructions = dockerfileInstructions(read('Dockerfile'));
  const lastStage = Math.max(...instructions.map((instruction) => instruction.stage));
  const runtime = instructions.filter((instruction) => instruction.stage === lastStage);
  const only = (keyword: string) => {
    const found = runtime.filter((instruction) => instruction.keyword === keyword);
    assert.equal(found.length, 1, `the runtime stage has one ${keyword}`);
    return found[0]!.args;
  };

  test('when the image is built, then production dependencies come from npm ci in their own stage and the runtime stage is Node 24 slim', () => {
    const froms = instructions.filter((instruction) => instruction.keyword === 'FROM');
    assert.ok(froms.length >= 2, 'a multi-stage build');
    for (const from of froms) assert.match(from.args, /^node:24-bookworm-slim\b/);
    const deps = froms.find((from) => / AS deps$/i.test(from.args));
    assert.ok(deps !== undefined, 'a stage named deps');
    assert.ok(instructions.some((instruction) => instruction.stage === deps.stage && instruction.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(instruction.args)), 'npm ci --omit=dev in the deps stage');
    const copies = runtime.filter((instruction) => instruction.keyword === 'COPY').map((instruction) => instruction.args);
    assert.ok(copies.some((args) => /--from=deps\s+\S*node_modules\s/.test(args)), 'node_modules come from the deps stage');
    for (const needed of ['package.json', 'bin', 'src']) {
      assert.ok(copies.some((args) => args.split(/\s+/).slice(0, -1).includes(needed)), `the runtime stage copies ${needed}`);
    }
  });

  test('when the container starts, then it runs the CLI as the node user, exposes PORT and checks /healthz with node', () => {
    assert.equal(only('USER'), 'node', 'the process runs as the unprivileged node user');
    assert.deepEqual(jsonArray(only('ENTRYPOINT')), ['node', 'src/cli.ts']);
    const command = jsonArray(only('CMD'));
    assert.deepEqual(command, ['start']);
    assert.ok(cliRoles.includes(roleOf(command)));
    const env = dockerfileEnv(runtime);
    assertValidConfiguration('Dockerfile', env);
    assert.ok(only('EXPOSE').split(/\s+/).includes(env.PORT ?? ''), 'EXPOSE names PORT');
    assert.ok(only('EXPOSE').split(/\s+/).includes(env.OPS_PORT ?? ''), 'EXPOSE names OPS_PORT');
    const healthcheck = only('HEALTHCHECK');
    const [, cmd = '[]'] = healthcheck.split(/\bCMD\s+/);
    const [program, ...args] = jsonArray(cmd);
    assert.equal(program, 'node', 'slim images have no curl: the healthcheck uses node');
    const probe = httpUrlPort.exec(args.join(' '));
    assert.equal(probe?.groups?.path, '/healthz');
    const fallbackPort = /process\.env\.PORT \|\| (\d+)/.exec(args.join(' '))?.[1] ?? probe.groups.port;
    assert.equal(fallbackPort, env.PORT, 'the healthcheck calls PORT');
  });

  test('when the image is built, then it carries no test, test harness, tool or benchmark code, and nothing it carries imports what it leaves out', () => {
    const files = imageFiles(runtime);
    for (const needed of ['package.json', 'bin/orderstream.js', 'src/cli.ts', 'src/apps/single-process.ts']) assert.ok(files.includes(needed), `the image carries ${needed}`);
    assert.deepEqual(files.filter((file) => file.endsWith('.test.ts') || file.split('/').includes('testing') || /^(bench|tools|test|deploy|scripts)\//.test(file)), []);
    const carried = new Set(files);
    for (const file of files.filter((name) => /\.(?:ts|js)$/.test(name))) {
      for (const specifier of relativeImportsOf(read(file))) {
        const target = path.posix.join(path.posix.dirname(file), specifier);
        // The command line's one door to tools/ and bench/ loads them on demand and says plainly when they are absent.
        if (file === 'src/cli/checkout-tools.ts' && /^(bench|tools)\//.test(target)) continue;
        assert.ok(carried.has(target), `${file} imports ${specifier}, which the image leaves out`);
      }
    }
  });

  test('when the build context is sent, then .dockerignore leaves out local state and keeps what the image copies', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    for (const entry of ['node_modules', '.data', '.git', 'bench', 'tools', 'test', 'console/dist']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
    for (const needed of ['package.json', 'package-lock.json', 'bin', 'src', 'console']) assert.ok(!ignored.includes(needed), `.dockerignore keeps ${needed}`);
  });

  test('when the image is built, then the operations console is built in a stage of its own and only its console/dist reaches the runtime stage, where the server looks for it', () => {
    const stage = instructions.find((instruction) => instruction.keyword === 'FROM' && / AS console$/i.test(instruction.args))?.stage;
    assert.ok(stage !== undefined, 'a stage named console');
    const steps = instructions.filter((instruction) => instruction.stage === stage).map((instruction) => `${instruction.keyword} ${instruction.args}`);
    assert.ok(steps.some((step) => /^RUN .*\bnpm ci\b/.test(step) && !step.includes('--omit=dev')), 'the console stage installs the build tools (dev dependencies)');
    assert.ok(steps.some((step) => /^COPY console\s/.test(step)), 'the console stage copies console/');
    assert.ok(steps.some((step) => /^RUN npm run build:console$/.test(step)), 'the console stage runs npm run build:console');
    const copies = runtime.filter((instruction) => instruction.keyword === 'COPY').map((instruction) => instruction.args);
    assert.ok(copies.includes('--from=console /app/console/dist ./console/dist'), 'the runtime stage copies console/dist from the console stage');
    assert.ok(!imageFiles(runtime).some((file) => file.startsWith('console/')), 'no console source reaches the runtime stage');
    assert.match(read('src/apps/console.ts'), /new URL\('\.\.\/\.\.\/console\/dist', import\.meta\.url\)/, 'the server serves console/dist beside src/');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts['build:console'] ?? '', /^vite build console\b/);
  });
});

describe('deploy/docker-compose.yml', () => {
  const { compose, appServices } = readCompose();
  const roleOfService = new Map(appServices.map(([name, service]) => [name, roleOf(service.command)]));
  const target = (host: string, port: number) => {
    const service = compose.services[host];
    const role = roleOfService.get(host);
    if (service === undefined || role === undefined) return `no OrderStream service "${host}" in the compose file`;
    if (String(port) !== resolvedEnvironment(service).PORT) return `port ${port} is not the PORT of ${host}`;
    return { role };
  };

  test('when compose runs the services shape, then every role runs once, the gateway twice, each a role the CLI accepts', () => {
    const roles = [...roleOfService.values()];
    for (const role of roles) assert.ok(cliRoles.includes(role), `role ${role} is one the CLI accepts`);
    for (const role of serviceRoles) {
      assert.equal(roles.filter((candidate) => candidate === role).length, role === 'gateway' ? 2 : 1, `compose runs role ${role} ${role === 'gateway' ? 'twice' : 'once'}`);
    }
    assert.equal(roles.length, serviceRoles.length + 1);
  });

  test('when compose sets a variable for OrderStream, then the configuration knows it and the whole environment passes its checks', () => {
    for (const [name, service] of appServices) {
      assertKnownVariables(`compose service ${name}`, Object.keys(service.environment));
      assertValidConfiguration(`compose service ${name}`, resolvedEnvironment(service));
    }
  });

  test('when a service has a database, then it is its role\'s own variable, pointing at its own PostgreSQL, which it waits for', () => {
    const hosts = new Map<string, string>();
    for (const [name, service] of appServices) {
      const role = roleOfService.get(name) ?? '';
      const env = resolvedEnvironment(service);
      const variable = assertDatabase(`compose service ${name}`, role, env);
      if (variable === undefined) continue;
      const url = new URL(env[variable] ?? '');
      const database = compose.services[url.hostname];
      assert.ok(database?.image?.startsWith('postgres:') === true, `${name}: ${variable} points at a PostgreSQL service (${url.hostname})`);
      assert.equal(resolvedEnvironment(database).POSTGRES_DB, url.pathname.slice(1), `${name}: the database ${url.pathname} is the one ${url.hostname} creates`);
      assert.equal(hosts.get(url.hostname), undefined, `${name} and ${hosts.get(url.hostname) ?? ''} share the database server ${url.hostname}`);
      hosts.set(url.hostname, name);
      assert.equal(service.depends_on[url.hostname]?.condition, 'service_healthy', `${name} waits for ${url.hostname}`);
    }
    assert.equal(hosts.size, Object.keys(databaseVariables).length);
  });

  test('when the gateways forward a route, then GATEWAY_UPSTREAMS names every upstream of the route table at the service that serves it', () => {
    for (const [name, service] of appServices.filter(([serviceName]) => roleOfService.get(serviceName) === 'gateway')) {
      assertUpstreams(`compose service ${name}`, resolvedEnvironment(service).GATEWAY_UPSTREAMS, target);
    }
  });

  test('when a service calls another (CATALOG_SERVICE_URL, INVENTORY_SERVICE_URL, ORDERS_SERVICE_URL), then that service runs the right role on its PORT', () => {
    const expected = { CATALOG_SERVICE_URL: 'catalog', INVENTORY_SERVICE_URL: 'inventory', ORDERS_SERVICE_URL: 'orders' };
    for (const [name, service] of appServices) {
      const env = resolvedEnvironment(service);
      for (const [variable, role] of Object.entries(expected)) {
        for (const url of env[variable]?.split(',') ?? []) {
          const { hostname, port } = new URL(url);
          const found = target(hostname, Number(port));
          assert.ok(typeof found !== 'string', `${name}: ${variable}=${url}: ${typeof found === 'string' ? found : ''}`);
          assert.equal(found.role, role, `${name}: ${variable} points at the ${role} role`);
        }
      }
    }
  });

  test('when compose checks health or waits for a service, then OrderStream is probed on its PORT at /readyz and every wait has a healthcheck to wait for', () => {
    for (const [name, service] of appServices) {
      const probe = httpUrlPort.exec((service.healthcheck?.test ?? []).join(' '));
      assert.ok(probe?.groups !== undefined, `${name} has an HTTP healthcheck`);
      assert.ok(probePaths.includes(probe.groups.path ?? ''), `${name}'s healthcheck calls ${probe.groups.path ?? ''}, not /healthz or /readyz`);
      assert.equal(probe.groups.port, resolvedEnvironment(service).PORT, `${name}'s healthcheck calls its PORT`);
    }
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on)) {
        const other = compose.services[dependency];
        assert.ok(other !== undefined, `${name} depends on ${dependency}, which exists`);
        if (condition === 'service_healthy') assert.ok(other.healthcheck !== undefined, `${name} waits for ${dependency} to be healthy, which has a healthcheck`);
      }
    }
  });

  test('when nginx is in front, then its upstream is exactly the gateways on their PORT, it passes X-Forwarded-For and X-Request-Id, and only it is trusted as a proxy', () => {
    const nginxEntry = Object.entries(compose.services).find(([, service]) => service.volumes.some((volume) => volume.includes('nginx/orderstream.conf')));
    assert.ok(nginxEntry !== undefined, 'an nginx service mounts deploy/nginx/orderstream.conf');
    const [nginxName, nginx] = nginxEntry;
    const mount = nginx.volumes.find((volume) => volume.includes('nginx/orderstream.conf')) ?? '';
    assert.ok(existsSync(path.join(root, 'deploy', mount.split(':')[0] ?? '')), `the mounted ${mount} exists`);
    const conf = read('deploy/nginx/orderstream.conf').replace(/#.*$/gm, '');
    const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(conf);
    assert.ok(upstream !== null, 'an upstream block');
    const [, upstreamName = '', body = ''] = upstream;
    const servers = [...body.matchAll(/server\s+([\w.-]+):(\d+)/g)].map(([, host = '', port = '']) => ({ host, port }));
    const gateways = appServices.filter(([name]) => roleOfService.get(name) === 'gateway');
    assert.deepEqual(servers.map(({ host }) => host).sort(), gateways.map(([name]) => name).sort(), 'nginx balances over the gateways, all of them');
    for (const { host, port } of servers) assert.equal(port, resolvedEnvironment(compose.services[host]!).PORT, `nginx calls ${host} on its PORT`);
    assert.match(conf, new RegExp(`proxy_pass\\s+http://${upstreamName}\\s*;`));
    assert.match(conf, /proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for\s*;/i);
    assert.match(conf, /proxy_set_header\s+X-Request-Id\s+\$\w+\s*;/i);
    const listen = /listen\s+(\d+)\s*;/.exec(conf)?.[1];
    assert.ok(nginx.ports.some((mapping) => interpolate(mapping).endsWith(`:${listen ?? ''}`)), `nginx publishes its listen port ${listen ?? ''}`);
    assert.ok(nginx.healthcheck !== undefined, 'nginx has a healthcheck');
    for (const [name] of gateways) assert.equal(nginx.depends_on[name]?.condition, 'service_healthy', `nginx waits for ${name}`);

    const addresses = Array.isArray(nginx.networks) ? [] : Object.entries(nginx.networks).map(([network, settings]) => ({ network, address: settings?.ipv4_address }));
    for (const [name, gateway] of gateways) {
      const shared = addresses.filter(({ network, address }) => address !== undefined && networkNames(gateway).includes(network));
      assert.ok(shared.length > 0, `${name} shares a network with ${nginxName}, where nginx has a fixed address`);
      assert.deepEqual(resolvedEnvironment(gateway).TRUST_PROXY?.split(','), shared.map(({ address }) => address), `${name} trusts X-Forwarded-For from nginx only`);
    }
  });

  test('when processes talk to each other, then all share GATEWAY_SECRET and Kafka, gateways and identity agree on tokens, and every host named is a service of the file', () => {
    const secretNames = new Set(appServices.map(([, service]) => /^\$\{(\w+)/.exec(service.environment.GATEWAY_SECRET ?? '')?.[1]));
    assert.deepEqual([...secretNames], ['GATEWAY_SECRET'], 'every process, gateway or service, takes GATEWAY_SECRET from the same variable (a service without it would trust any caller)');
    assertSharedSettings('compose', appServices.map(([name, service]) => ({ name, role: roleOfService.get(name) ?? '', env: resolvedEnvironment(service) })));
    for (const [name, service] of appServices) {
      for (const [variable, value] of Object.entries(resolvedEnvironment(service))) {
        const hosts = variable === 'KAFKA_BROKERS' ? value.split(',').map((broker) => broker.split(':')[0] ?? '')
          : /^[a-z]+:\/\//.test(value) && variable !== 'IDENTITY_ISSUER' ? value.split(/[,;]/).map((entry) => new URL(entry.replace(/^\s*[\w*-]+=/, '')).hostname) : [];
        for (const host of hosts) assert.ok(compose.services[host] !== undefined, `${name}: ${variable} names ${host}, which is not a service of the compose file`);
      }
    }
  });

  test('when a secret is needed, then compose takes it from the environment (${...}), never a literal', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment)) {
        if (secretVariables.has(variable) || secretLookingName.test(variable)) assertPlaceholderSecret(`compose service ${name}`, variable, value);
      }
    }
  });
});

describe('deploy/k8s', () => {
  const k8s = readKubernetes();
  const roleOfDeployment = new Map(k8s.deployments.map((deployment) => [deployment.metadata.name, roleOf(onlyContainer(deployment).args)]));
  const envOf = (deployment: Deployment) => containerEnvironment(onlyContainer(deployment), k8s.configMaps);
  const secretTemplates = k8s.secrets.map((entry) => secretSchema.parse(entry.raw));
  const target = (host: string, port: number) => {
    const service = k8s.services.find((candidate) => candidate.metadata.name === host);
    if (service === undefined) return `no Service "${host}"`;
    const deployment = deploymentSelectedBy(service, k8s.deployments);
    if (deployment === undefined) return `Service ${host} selects no Deployment`;
    const container = onlyContainer(deployment);
    if (!servicePortReaching(service, container, Number(envOf(deployment).PORT)).includes(port)) return `port ${port} of Service ${host} does not reach PORT of ${deployment.metadata.name}`;
    return { role: roleOfDeployment.get(deployment.metadata.name) ?? '' };
  };

  test('when kustomize builds deploy/k8s, then it applies every manifest but the Secret template, which only holds placeholders', () => {
    for (const resource of k8s.kustomization.resources) assert.ok(existsSync(path.join(root, k8sDirectory, resource)), `${resource} exists`);
    assert.deepEqual([...k8s.kustomization.resources].sort(), k8s.files.filter((file) => file !== secretTemplateFile));
    assert.equal(secretTemplates.length, 1, 'one Secret template');
    assert.ok(k8s.manifests.filter((entry) => entry.manifest.kind === 'Secret').every((entry) => entry.file === secretTemplateFile), 'Secrets only in the template');
    for (const [key, value] of Object.entries(secretTemplates[0]!.stringData)) {
      assert.equal(value, `\${${key}}`, `${secretTemplateFile}: ${key} is the placeholder \${${key}}, not a value`);
    }
    assertKnownVariables(secretTemplateFile, Object.keys(secretTemplates[0]!.stringData));
    assert.ok(k8s.manifests.some((entry) => entry.manifest.kind === 'Namespace'), 'a Namespace');
  });

  test('when Kubernetes runs the services shape, then one Deployment and one Service per role, each a role the CLI accepts', () => {
    const roles = [...roleOfDeployment.values()];
    for (const role of roles) assert.ok(cliRoles.includes(role), `role ${role} is one the CLI accepts`);
    assert.deepEqual([...roles].sort(), [...serviceRoles].sort());
    for (const deployment of k8s.deployments) {
      const services = k8s.services.filter((service) => deploymentSelectedBy(service, [deployment]) !== undefined);
      assert.equal(services.length, 1, `one Service selects ${deployment.metadata.name}`);
      for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) {
        assert.equal(deployment.spec.template.metadata.labels[key], value, `${deployment.metadata.name}'s pods carry its selector`);
      }
    }
  });

  test('when a pod gets its environment, then the configuration knows every variable and the whole environment passes its checks', () => {
    for (const [name, data] of k8s.configMaps) assertKnownVariables(`ConfigMap ${name}`, Object.keys(data));
    for (const deployment of k8s.deployments) {
      const source = `Deployment ${deployment.metadata.name}`;
      assertKnownVariables(source, onlyContainer(deployment).env.map((entry) => entry.name));
      assertValidConfiguration(source, envOf(deployment));
    }
  });

  test('when a service has a database, then it is its role\'s own variable, from the Secret', () => {
    for (const deployment of k8s.deployments) {
      const role = roleOfDeployment.get(deployment.metadata.name) ?? '';
      const variable = assertDatabase(`Deployment ${deployment.metadata.name}`, role, envOf(deployment));
      if (variable === undefined) continue;
      const entry = onlyContainer(deployment).env.find((candidate) => candidate.name === variable);
      assert.equal(entry?.valueFrom?.secretKeyRef.key, variable, `${deployment.metadata.name} reads ${variable} from the Secret`);
    }
  });

  test('when the kubelet probes a pod, then readiness is /readyz and liveness /healthz on the container port that is PORT; metrics on OPS_PORT', () => {
    for (const deployment of k8s.deployments) {
      const name = deployment.metadata.name;
      const container = onlyContainer(deployment);
      const env = envOf(deployment);
      const http = container.ports.find((port) => port.containerPort === Number(env.PORT));
      assert.ok(http !== undefined, `${name} declares its PORT (${env.PORT ?? ''}) as a container port`);
      assert.ok(container.ports.some((port) => port.containerPort === Number(env.OPS_PORT)), `${name} declares OPS_PORT`);
      assert.equal(container.readinessProbe?.httpGet.path, '/readyz', `${name}'s readiness probe`);
      assert.equal(container.livenessProbe?.httpGet.path, '/healthz', `${name}'s liveness probe`);
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        if (probe === undefined) continue;
        assert.ok(probePaths.includes(probe.httpGet.path), `${name} probes ${probe.httpGet.path}`);
        assert.ok(probe.httpGet.port === http.containerPort || probe.httpGet.port === http.name, `${name} probes ${probe.httpGet.path} on PORT`);
      }
    }
  });

  test('when a pod is scheduled, then it has CPU and memory requests and limits and cannot run as root', () => {
    for (const deployment of k8s.deployments) {
      const name = deployment.metadata.name;
      const container = onlyContainer(deployment);
      for (const resource of ['cpu', 'memory']) {
        assert.ok(container.resources.requests[resource] !== undefined, `${name} requests ${resource}`);
        assert.ok(container.resources.limits[resource] !== undefined, `${name} limits ${resource}`);
      }
      const pod = deployment.spec.template.spec.securityContext;
      assert.equal(container.securityContext.runAsNonRoot ?? pod.runAsNonRoot, true, `${name} runs as non-root`);
      // The image's USER is a name (node), which the kubelet cannot check: a numeric user is needed.
      const user = container.securityContext.runAsUser ?? pod.runAsUser;
      assert.ok(user !== undefined && user > 0, `${name} names a numeric non-root user`);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false, `${name} cannot escalate privileges`);
    }
  });

  test('when the gateways forward a route, then GATEWAY_UPSTREAMS names every upstream of the route table at a Service whose pods serve it', () => {
    const gateways = k8s.deployments.filter((deployment) => roleOfDeployment.get(deployment.metadata.name) === 'gateway');
    assert.equal(gateways.length, 1);
    for (const gateway of gateways) assertUpstreams(`Deployment ${gateway.metadata.name}`, envOf(gateway).GATEWAY_UPSTREAMS, target);
    for (const deployment of k8s.deployments) {
      const env = envOf(deployment);
      for (const [variable, role] of Object.entries({ CATALOG_SERVICE_URL: 'catalog', INVENTORY_SERVICE_URL: 'inventory', ORDERS_SERVICE_URL: 'orders' })) {
        for (const url of env[variable]?.split(',') ?? []) {
          const { hostname, port } = new URL(url);
          const found = target(hostname, Number(port));
          assert.ok(typeof found !== 'string', `${deployment.metadata.name}: ${variable}=${url}: ${typeof found === 'string' ? found : ''}`);
          assert.equal(found.role, role);
        }
      }
    }
  });

  test('when load grows, then the HorizontalPodAutoscalers (autoscaling/v2, CPU) scale the gateway and orders Deployments, which request CPU and leave replicas to them', () => {
    const scaled = new Set<string>();
    for (const hpa of k8s.hpas) {
      assert.equal(hpa.apiVersion, 'autoscaling/v2');
      const { scaleTargetRef } = hpa.spec;
      assert.equal(scaleTargetRef.kind, 'Deployment');
      const deployment = k8s.deployments.find((candidate) => candidate.metadata.name === scaleTargetRef.name);
      assert.ok(deployment !== undefined, `HPA ${hpa.metadata.name} targets Deployment ${scaleTargetRef.name}, which exists`);
      assert.ok(hpa.spec.metrics.some((metric) => metric.type === 'Resource' && metric.resource?.name === 'cpu'), `HPA ${hpa.metadata.name} scales on CPU`);
      assert.ok(onlyContainer(deployment).resources.requests.cpu !== undefined, `${scaleTargetRef.name} requests CPU, which utilisation is measured against`);
      assert.equal(deployment.spec.replicas, undefined, `${scaleTargetRef.name} leaves replicas to its HPA (kubectl apply would reset them)`);
      assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas >= hpa.spec.minReplicas);
      scaled.add(roleOfDeployment.get(deployment.metadata.name) ?? '');
    }
    assert.deepEqual([...scaled].sort(), ['gateway', 'orders']);
  });

  test('when traffic comes from outside, then the Ingress leads to the gateway Service only', () => {
    assert.ok(k8s.ingresses.length > 0, 'an Ingress');
    for (const ingress of k8s.ingresses) {
      for (const { backend } of ingress.spec.rules.flatMap((rule) => rule.http.paths)) {
        const { name, port } = backend.service;
        const servicePort = k8s.services.find((service) => service.metadata.name === name)?.spec.ports
          .find((candidate) => (port.name !== undefined && candidate.name === port.name) || candidate.port === port.number);
        const found = target(name, servicePort?.port ?? -1);
        assert.ok(typeof found !== 'string', `Ingress ${ingress.metadata.name}: ${typeof found === 'string' ? found : ''}`);
        assert.equal(found.role, 'gateway');
      }
    }
    for (const service of k8s.services) {
      assert.ok(service.spec.type === undefined || service.spec.type === 'ClusterIP', `Service ${service.metadata.name} stays inside the cluster`);
    }
  });

  test('when processes talk to each other, then all share GATEWAY_SECRET and Kafka, and gateways and identity agree on tokens', () => {
    const keys = new Set(k8s.deployments.map((deployment) => onlyContainer(deployment).env.find((entry) => entry.name === 'GATEWAY_SECRET')?.valueFrom?.secretKeyRef.key));
    assert.deepEqual([...keys], ['GATEWAY_SECRET'], 'every Deployment, gateway or service, reads GATEWAY_SECRET from the same key (a service without it would trust any caller)');
    assertSharedSettings('k8s', k8s.deployments.map((deployment) => ({ name: deployment.metadata.name, role: roleOfDeployment.get(deployment.metadata.name) ?? '', env: envOf(deployment) })));
  });

  test('when a secret is needed, then it comes from the Secret (secretKeyRef), never a literal or a ConfigMap', () => {
    const keys = new Set(Object.keys(secretTemplates[0]?.stringData ?? {}));
    for (const [name, data] of k8s.configMaps) {
      for (const [key, value] of Object.entries(data)) {
        assert.ok(!secretVariables.has(key) && !secretLookingName.test(key), `ConfigMap ${name} holds the secret ${key}`);
        assert.doesNotMatch(value, /:\/\/[^/@\s]+@/, `ConfigMap ${name}: ${key} carries credentials`);
      }
    }
    for (const deployment of k8s.deployments) {
      for (const entry of onlyContainer(deployment).env) {
        const reference = entry.valueFrom?.secretKeyRef;
        if (secretVariables.has(entry.name) || secretLookingName.test(entry.name)) {
          assert.ok(entry.value === undefined && reference !== undefined, `${deployment.metadata.name}: ${entry.name} comes from a Secret`);
        }
        if (reference === undefined) continue;
        assert.equal(reference.name, secretTemplates[0]?.metadata.name, `${deployment.metadata.name}: ${entry.name} from the orderstream Secret`);
        assert.ok(keys.has(reference.key), `${deployment.metadata.name}: the Secret template has the key ${reference.key}`);
      }
    }
  });
});

describe('probes', () => {
  test('when the deployments probe /healthz and /readyz, then an app with no routes answers both, also behind a gateway secret', async () => {
    const dockerfile = dockerfileInstructions(read('Dockerfile')).find((instruction) => instruction.keyword === 'HEALTHCHECK')?.args ?? '';
    const used = new Set([
      httpUrlPort.exec(dockerfile)?.groups?.path,
      ...readCompose().appServices.map(([, service]) => httpUrlPort.exec((service.healthcheck?.test ?? []).join(' '))?.groups?.path),
      ...readKubernetes().deployments.flatMap((deployment) => {
        const container = onlyContainer(deployment);
        return [container.readinessProbe, container.livenessProbe, container.startupProbe].map((probe) => probe?.httpGet.path);
      }),
    ].filter((probePath) => probePath !== undefined));
    assert.deepEqual([...used].sort(), probePaths);

    for (const gatewaySecret of [undefined, 'a-secret-shared-by-gateway-and-services']) {
      const app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, routes: [], readiness: [], ...(gatewaySecret === undefined ? {} : { gatewaySecret }) });
      try {
        for (const url of probePaths) {
          const response = await app.inject({ method: 'GET', url });
          assert.equal(response.statusCode, 200, `GET ${url}${gatewaySecret === undefined ? '' : ' behind a gateway'}: ${response.body}`);
        }
      } finally {
        await app.close();
      }
    }
  });
});
