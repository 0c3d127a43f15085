import { byCodeUnit, code, page, table } from './markdown.ts';

/** The part of an OpenAPI document the table reads. */
export interface OpenApiDocument {
  paths?: Record<string, Record<string, { operationId?: string; summary?: string; description?: string; tags?: string[] } | undefined>>;
}

/** A line of the route table (src/apps/gateway/route-policies.ts). */
export interface PolicyLine {
  method: string;
  url: string;
  access: string;
  upstream: string;
}

const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** `/v1/orders/{id}` as the route table writes it: `/v1/orders/:id`. */
const asRoute = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

/** Every operation of the OpenAPI document with the policy that guards it; a documented route without one is refused at start, so it fails here too. */
function apiRows(document: OpenApiDocument, policies: readonly PolicyLine[]): string[][] {
  const rows: string[][] = [];
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!methods.has(method) || operation === undefined) continue;
      const verb = method.toUpperCase();
      const policy = policies.find((line) => line.method === verb && line.url === asRoute(path));
      if (policy === undefined) throw new Error(`${verb} ${path} is in the OpenAPI document but not in the route table: it has no access policy.`);
      const what = operation.summary ?? operation.operationId ?? operation.description?.split('\n')[0] ?? '';
      rows.push([verb, code(path), policy.access, policy.upstream, what]);
    }
  }
  return rows.sort((left, right) => byCodeUnit(`${left[1]} ${left[0]}`, `${right[1]} ${right[0]}`));
}

/** http-api.md: every documented operation with who may call it and which service answers it. */
export function renderHttpApi(document: OpenApiDocument, policies: readonly PolicyLine[]): string {
  const rows = apiRows(document, policies);
  const byAccess = new Map<string, number>();
  for (const row of rows) byAccess.set(row[2] ?? '', (byAccess.get(row[2] ?? '') ?? 0) + 1);
  const summary = [...byAccess].sort(([left], [right]) => byCodeUnit(left, right)).map(([access, count]) => `${count} ${access}`).join(', ');
  return page('HTTP API',
    'Read from the app\'s OpenAPI document (`/openapi.json`, built from the routes\' schemas) and the route table every edge and gateway enforces (`src/apps/gateway/route-policies.ts`: each module\'s route policies from the registry, plus the platform\'s). *Access*: `public` anyone, `customer` a signed-in account (or an admin), `admin` the admin role, `service` a service client. *Service*: the process that answers the route in the services shape; the single process answers them all.',
    [`${rows.length} operations: ${summary}.`, table(['method', 'path', 'access', 'service', 'what it does'], rows)]);
}

/** The part of an AsyncAPI 3 document the table reads. */
export interface AsyncApiDocument {
  channels?: Record<string, { title?: string; messages?: Record<string, unknown> }>;
  operations?: Record<string, { action?: string; channel?: { $ref?: string }; title?: string; messages?: { $ref?: string }[] }>;
  components?: { messages?: Record<string, { name?: string; title?: string; summary?: string }> };
}

const lastPart = (ref: string | undefined): string => ref?.split('/').at(-1) ?? '';
const channelPart = (ref: string | undefined): string => ref?.split('/')[2] ?? '';

/** For each message id, who sends it and who receives it, read from the document's operations. */
function sendersAndReaders(document: AsyncApiDocument): Map<string, { senders: Set<string>; readers: Set<string>; topic: string }> {
  const byMessage = new Map<string, { senders: Set<string>; readers: Set<string>; topic: string }>();
  for (const [id, operation] of Object.entries(document.operations ?? {})) {
    const who = id.split(`.${operation.action ?? ''}.`)[0] ?? id;
    for (const message of operation.messages ?? []) {
      const messageId = lastPart(message.$ref);
      const entry = byMessage.get(messageId) ?? { senders: new Set<string>(), readers: new Set<string>(), topic: channelPart(message.$ref) };
      (operation.action === 'send' ? entry.senders : entry.readers).add(who);
      byMessage.set(messageId, entry);
    }
  }
  return byMessage;
}

/** events.md: every message type with its topic, its publisher and its consumers. */
export function renderEvents(document: AsyncApiDocument): string {
  const flows = sendersAndReaders(document);
  const rows = Object.entries(document.components?.messages ?? {}).map(([id, message]) => {
    const flow = flows.get(id);
    if (flow === undefined || flow.senders.size === 0) throw new Error(`${id} is in the AsyncAPI document with no operation sending it.`);
    const readers = [...flow.readers].sort(byCodeUnit);
    return [code(message.title ?? id), code(flow.topic), [...flow.senders].sort(byCodeUnit).join(', '), readers.length === 0 ? 'none in OrderStream' : readers.join(', ')];
  }).sort((left, right) => byCodeUnit(left[0] ?? '', right[0] ?? ''));
  return page('Events and commands',
    'Read from the AsyncAPI document (`/asyncapi.json`, built in `src/apps/asyncapi.ts` from every module\'s message declarations): each message type with the topic it travels on in the services shape, the module whose outbox publishes it and the consumers that read it (each with its own inbox). In the single process the same envelopes travel in-process.',
    [`${rows.length} message types.`, table(['message', 'topic', 'publisher', 'consumers'], rows)]);
}
