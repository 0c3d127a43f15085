import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { parse } from 'yaml';
import { documentedMessages, moduleMessageSchemas } from '../../src/apps/asyncapi-messages.ts';
import { routePolicies } from '../../src/apps/gateway/route-policies.ts';
import { moduleRegistry, moduleNames } from '../../src/apps/module-registry.ts';
import { allMigrations, createSingleProcess } from '../../src/apps/single-process.ts';
import { compensationsFor, ordersEvents, sagaSteps } from '../../src/modules/orders/index.ts';
import { loadConfig } from '../../src/platform/config/config.ts';
import { createDatabase } from '../../src/platform/database/database.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { renderEvents, renderHttpApi, type AsyncApiDocument, type OpenApiDocument } from './api-tables.ts';
import { readCatalog, type CatalogTable } from './catalog.ts';
import { readContractUses } from './contract-uses.ts';
import { renderDataModel, type DrawnSchema } from './data-model.ts';
import { renderDeployment, type ComposeFile } from './deployment.ts';
import { generatedMark } from './markdown.ts';
import { renderModuleMap } from './module-map.ts';
import { renderReadme, type views } from './readme.ts';
import { renderSagaSequence } from './saga-sequence.ts';

/** The repository root, which the module sources and deploy/ are read from. */
const root = path.resolve(import.meta.dirname, '..', '..');

/** Where the blueprint is committed: docs/blueprint/ of this checkout. */
export const blueprintFolder = path.join(root, 'docs', 'blueprint');

/** What the running app documents about itself, and its migrated catalog. */
interface AppReadings {
  openApi: OpenApiDocument;
  asyncApi: AsyncApiDocument;
  tables: CatalogTable[];
}

/** Every schema the migrations make, with the module that owns it; the migrations table's schema is in every database. */
export function drawnSchemas(): DrawnSchema[] {
  const modules = new Set<string>(moduleNames);
  return [
    ...allMigrations.map((set) => ({ schema: set.schema, owner: modules.has(set.module) ? set.module : 'every database' })),
    { schema: 'platform', owner: 'every database' },
  ];
}

/** The single process on a fresh database of `serverUrl`, with fixed settings so the documents do not follow the caller's environment. */
async function readApp(serverUrl: string): Promise<AppReadings> {
  const name = `blueprint_${randomBytes(6).toString('hex')}`;
  const admin = createDatabase({ url: serverUrl, poolSize: 1 });
  const files = await mkdtemp(path.join(tmpdir(), 'orderstream-blueprint-'));
  try {
    await sql.raw(`create database ${name}`).execute(admin);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      const orderstream = await createSingleProcess({
        config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url.toString(), DOCUMENTS_DIR: files, EMAIL_OUTBOX_DIR: files }),
        logger: createLogger({ level: 'silent' }), databaseUrl: url.toString(), keyEncryptionKey: randomBytes(32).toString('base64'),
      });
      try {
        const openApi = (await orderstream.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
        const asyncApi = (await orderstream.app.inject({ method: 'GET', url: '/asyncapi.json' })).json<AsyncApiDocument>();
        return { openApi, asyncApi, tables: await readCatalog(orderstream.db, drawnSchemas().map((drawn) => drawn.schema)) };
      } finally {
        await orderstream.close();
      }
    } finally {
      await sql.raw(`drop database if exists ${name} with (force)`).execute(admin);
    }
  } finally {
    await admin.destroy();
    await rm(files, { recursive: true, force: true });
  }
}

function sagaView(): string {
  return renderSagaSequence({
    steps: sagaSteps, compensationsFor,
    sends: moduleMessageSchemas.orders.sends.map((sent) => sent.message),
    reads: moduleMessageSchemas.orders.consumers.flatMap((consumer) => consumer.reads.map((read) => read.message)),
    placed: ordersEvents.placed, confirmed: ordersEvents.confirmed, cancelled: ordersEvents.cancelled,
  });
}

/**
 * Every file of the blueprint, by name: read from the code, the deploy files and a database
 * migrated on `serverUrl` (a temporary one, dropped again).
 */
export async function generateBlueprint(serverUrl: string): Promise<Map<string, string>> {
  const app = await readApp(serverUrl);
  const compose = parse(await readFile(path.join(root, 'deploy', 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
  const schemas = drawnSchemas();
  const contents: Record<(typeof views)[number]['file'], string> = {
    'modules.md': renderModuleMap({ modules: moduleRegistry, messages: documentedMessages(), contractUses: await readContractUses(root, moduleNames) }),
    'saga.md': sagaView(),
    'data-model.md': renderDataModel(schemas, app.tables),
    'http-api.md': renderHttpApi(app.openApi, routePolicies),
    'events.md': renderEvents(app.asyncApi),
    'deployment.md': renderDeployment({
      modules: schemas.filter((drawn) => drawn.owner !== 'every database').map((drawn) => ({ name: drawn.owner, schema: drawn.schema })),
      sharedSchemas: schemas.filter((drawn) => drawn.owner === 'every database').map((drawn) => drawn.schema),
    }, compose),
  };
  return new Map([['README.md', renderReadme()], ...Object.entries(contents)]);
}

/**
 * Writes the blueprint into `folder` (made if absent). A view it wrote before and no longer draws is
 * removed, so it does not linger; any other file there is left alone, whatever `--out` names.
 */
export async function writeBlueprint(folder: string, files: ReadonlyMap<string, string>): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  for (const file of (await readdir(folder)).filter((name) => name.endsWith('.md') && !files.has(name))) {
    if ((await readFile(path.join(folder, file), 'utf8')).includes(generatedMark)) await rm(path.join(folder, file));
  }
  for (const [file, text] of files) await writeFile(path.join(folder, file), text);
  return [...files.keys()].map((file) => path.join(folder, file));
}
