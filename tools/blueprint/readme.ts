import { page, table } from './markdown.ts';

/** The views of the blueprint, in reading order. */
export const views = [
  { file: 'modules.md', title: 'Modules and their contracts', what: 'every module, its routes and database, who sends whom which message, and which contracts each uses' },
  { file: 'saga.md', title: 'The fulfilment saga', what: 'placing and cancelling an order as sequence diagrams, compensations included, walked from the saga\'s definition' },
  { file: 'data-model.md', title: 'Data model', what: 'one ER diagram per schema, read from a freshly migrated database' },
  { file: 'http-api.md', title: 'HTTP API', what: 'every operation of the OpenAPI document with its access policy and the service that answers it' },
  { file: 'events.md', title: 'Events and commands', what: 'every message type of the AsyncAPI document with its topic, publisher and consumers' },
  { file: 'deployment.md', title: 'Deployment shapes', what: 'the single process, and the services shape: nginx, gateways, a process and a database per module, Kafka, Redis' },
] as const;

/** README.md of docs/blueprint/: what it is, how it is made, and its views. */
export function renderReadme(): string {
  return page('Blueprint',
    'The architecture as the code has it, drawn by `orderstream blueprint` (`node bin/orderstream.js blueprint --out docs/blueprint` in a checkout). Nothing here is typed by hand: every view is read from the code, the deploy files or a freshly migrated database, and `tools/blueprint/blueprint.int.test.ts` fails when the committed files differ from a fresh run — so after changing a module, a message, a migration, a route or a deploy file, run the command again and commit what it writes. How the parts work is told in [docs/architecture.md](../architecture.md).',
    [table(['view', 'shows'], views.map((view) => [`[${view.title}](${view.file})`, view.what]))]);
}
