import { byCodeUnit, code, label, lines, mermaid, nodeId, page, table } from './markdown.ts';

/** A module as the registry lists it (src/apps/module-registry.ts). */
export interface MapModule {
  name: string;
  databaseVariable: string;
  routes: readonly { method: string; url: string; access: string }[];
}

/** A message type with who sends and who reads it (src/apps/asyncapi-messages.ts). */
export interface MapMessage {
  type: string;
  version: number;
  publisher: string;
  consumers: readonly { module: string; consumer: string }[];
}

/** One module's code importing another module's contract.ts, with the names it takes. */
export interface ContractUse {
  from: string;
  to: string;
  names: readonly string[];
}

export interface ModuleMapInput {
  modules: readonly MapModule[];
  messages: readonly MapMessage[];
  contractUses: readonly ContractUse[];
}

const messageName = (message: { type: string; version: number }): string => `${message.type} v${message.version}`;

/** Every module a message or a contract import names must be in the registry: a map that left one out would lie. */
function checkKnown(input: ModuleMapInput): void {
  const known = new Set(input.modules.map((module) => module.name));
  const named = [
    ...input.messages.flatMap((message) => [{ module: message.publisher, by: `${messageName(message)} (publisher)` },
      ...message.consumers.map((reader) => ({ module: reader.module, by: `${messageName(message)} (consumer ${reader.consumer})` }))]),
    ...input.contractUses.flatMap((use) => [{ module: use.from, by: `an import of ${use.to}/contract.ts` }, { module: use.to, by: `an import by ${use.from}` }]),
  ];
  const unknown = named.filter(({ module }) => !known.has(module));
  if (unknown.length > 0) {
    throw new Error(`The module map is missing modules named by the code: ${unknown.map(({ module, by }) => `${module} (by ${by})`).join(', ')}; add them to the module registry.`);
  }
}

/** Message types grouped by publisher and consuming module, sorted. */
function messageEdges(messages: readonly MapMessage[]): { from: string; to: string | undefined; types: string[] }[] {
  const edges = new Map<string, { from: string; to: string | undefined; types: Set<string> }>();
  const add = (from: string, to: string | undefined, type: string) => {
    const key = `${from} ${to ?? ''}`;
    const edge = edges.get(key) ?? { from, to, types: new Set<string>() };
    edge.types.add(type);
    edges.set(key, edge);
  };
  for (const message of messages) {
    if (message.consumers.length === 0) add(message.publisher, undefined, messageName(message));
    for (const reader of message.consumers) add(message.publisher, reader.module, messageName(message));
  }
  return [...edges.entries()].sort(([left], [right]) => byCodeUnit(left, right))
    .map(([, edge]) => ({ from: edge.from, to: edge.to, types: [...edge.types].sort(byCodeUnit) }));
}

/** What a contract import is for: the ports and functions it names, or its messages and their payload types. */
function contractLabel(names: readonly string[]): string {
  const ports = names.filter((name) => !/(?:V\d+|Messages|Events)$/.test(name));
  return ports.length === 0 ? 'messages' : ports.join(', ');
}

function diagram(input: ModuleMapInput): string[] {
  const modules = [...input.modules].sort((left, right) => byCodeUnit(left.name, right.name));
  const out = ['flowchart LR', `  clients(${label('HTTP clients')})`];
  for (const module of modules) {
    out.push(`  ${nodeId(module.name)}[${lines([module.name, `${module.routes.length} routes`, module.databaseVariable])}]`);
  }
  for (const module of modules) if (module.routes.length > 0) out.push(`  clients --> ${nodeId(module.name)}`);
  const edges = messageEdges(input.messages);
  if (edges.some((edge) => edge.to === undefined)) out.push(`  unread([${label('no consumer in OrderStream')}])`);
  for (const edge of edges) {
    out.push(`  ${nodeId(edge.from)} == ${lines(edge.types)} ==> ${edge.to === undefined ? 'unread' : nodeId(edge.to)}`);
  }
  for (const use of [...input.contractUses].sort((left, right) => byCodeUnit(`${left.from} ${left.to}`, `${right.from} ${right.to}`))) {
    out.push(`  ${nodeId(use.from)} -. ${label(`contract: ${contractLabel(use.names)}`)} .-> ${nodeId(use.to)}`);
  }
  return out;
}

function routeSummary(routes: MapModule['routes']): string {
  const byAccess = new Map<string, number>();
  for (const route of routes) byAccess.set(route.access, (byAccess.get(route.access) ?? 0) + 1);
  return [...byAccess].sort(([left], [right]) => byCodeUnit(left, right)).map(([access, count]) => `${count} ${access}`).join(', ');
}

function moduleRows(input: ModuleMapInput): string[][] {
  return [...input.modules].sort((left, right) => byCodeUnit(left.name, right.name)).map((module) => {
    const sends = input.messages.filter((message) => message.publisher === module.name).map(messageName).sort(byCodeUnit);
    const reads = input.messages.filter((message) => message.consumers.some((reader) => reader.module === module.name)).map(messageName).sort(byCodeUnit);
    const uses = input.contractUses.filter((use) => use.from === module.name).map((use) => use.to).sort(byCodeUnit);
    return [code(module.name), code(module.databaseVariable), routeSummary(module.routes), sends.join(', '), reads.join(', '), uses.join(', ')];
  });
}

/** modules.md: every module of the registry, its routes and database, and who sends whom which message. */
export function renderModuleMap(input: ModuleMapInput): string {
  checkKnown(input);
  return page('Modules and their contracts',
    'Read from the module registry (`src/apps/module-registry.ts`: names, database variables, route policies), every module\'s message declarations (`adapters/messaging/<module>-message-schemas.ts`, collected in `src/apps/asyncapi-messages.ts`) and the imports of another module\'s `contract.ts` in each module\'s code. Thick arrows are messages (publisher to consuming module), dotted ones a module using another\'s contract.',
    [
      mermaid(diagram(input)),
      '## Modules',
      table(['module', 'database (services shape)', 'routes by access', 'sends', 'reads', 'uses the contract of'], moduleRows(input)),
    ]);
}
