import type { CatalogTable } from './catalog.ts';
import { byCodeUnit, code, label, mermaid, nodeId, page, table } from './markdown.ts';

/** A schema the blueprint draws: a module's own, or one every database has (messaging, audit trail, migrations). */
export interface DrawnSchema {
  schema: string;
  /** The module whose migrations make it, or `every database`. */
  owner: string;
}

/** A type as an erDiagram attribute type: word characters only (`_text`, an array, as `text_array`). */
function attributeType(type: string): string {
  const base = type.startsWith('_') ? `${type.slice(1)}_array` : type;
  return base.replace(/[^A-Za-z0-9_]/g, '_');
}

function entityOf(schema: string, tableSchema: string, name: string): string {
  return nodeId(tableSchema === schema ? name : `${tableSchema}__${name}`);
}

function keysOf(tableEntry: CatalogTable, column: string): string {
  const keys = [
    tableEntry.primaryKey.includes(column) ? 'PK' : '',
    tableEntry.foreignKeys.some((key) => key.columns.includes(column)) ? 'FK' : '',
    tableEntry.unique.some((columns) => columns.includes(column)) ? 'UK' : '',
  ].filter((key) => key !== '');
  return keys.length === 0 ? '' : ` ${keys.join(', ')}`;
}

function erDiagram(schema: string, tables: readonly CatalogTable[]): string[] {
  const out = ['erDiagram'];
  for (const entry of tables) {
    out.push(`  ${entityOf(schema, entry.schema, entry.name)} {`);
    for (const column of entry.columns) {
      out.push(`    ${attributeType(column.type)} ${nodeId(column.name)}${keysOf(entry, column.name)}${column.nullable ? ' "nullable"' : ''}`);
    }
    out.push('  }');
  }
  for (const entry of tables) {
    for (const key of [...entry.foreignKeys].sort((left, right) => byCodeUnit(left.name, right.name))) {
      const optional = key.columns.some((column) => entry.columns.find((candidate) => candidate.name === column)?.nullable === true);
      out.push(`  ${entityOf(schema, key.toSchema, key.toTable)} ${optional ? '|o' : '||'}--o{ ${entityOf(schema, entry.schema, entry.name)} : ${label(key.columns.join(', '))}`);
    }
  }
  return out;
}

function tableRows(tables: readonly CatalogTable[]): string[][] {
  return tables.map((entry) => [
    code(`${entry.schema}.${entry.name}`),
    entry.primaryKey.join(', '),
    entry.unique.map((columns) => `(${columns.join(', ')})`).join(', '),
    [...entry.foreignKeys].sort((left, right) => byCodeUnit(left.name, right.name))
      .map((key) => `(${key.columns.join(', ')}) → ${key.toSchema}.${key.toTable}`).join(', '),
  ]);
}

function schemaSection(drawn: DrawnSchema, tables: readonly CatalogTable[]): string[] {
  const own = tables.filter((entry) => entry.schema === drawn.schema)
    .map((entry) => ({ ...entry, unique: [...entry.unique].sort((left, right) => byCodeUnit(left.join(), right.join())) }))
    .sort((left, right) => byCodeUnit(left.name, right.name));
  if (own.length === 0) throw new Error(`The migrated database has no table in schema ${drawn.schema} (${drawn.owner}); the blueprint would draw an empty module.`);
  return [
    `## ${code(drawn.schema)} (${drawn.owner})`,
    mermaid(erDiagram(drawn.schema, own)),
    table(['table', 'primary key', 'unique', 'references'], tableRows(own)),
  ];
}

/** data-model.md: one erDiagram per schema, module schemas first, then those every database has. */
export function renderDataModel(schemas: readonly DrawnSchema[], tables: readonly CatalogTable[]): string {
  const ordered = [...schemas].sort((left, right) =>
    byCodeUnit(`${left.owner === 'every database' ? 1 : 0} ${left.schema}`, `${right.owner === 'every database' ? 1 : 0} ${right.schema}`));
  return page('Data model',
    'Read from the catalog (`pg_catalog`) of a fresh database migrated with every module\'s migrations: each schema\'s tables, columns with their PostgreSQL types, primary keys (PK), foreign keys (FK) and unique constraints (UK). In the single process all schemas share one database; in the services shape each module\'s service has its own database, holding its module\'s schema and those marked *every database*.',
    ordered.flatMap((drawn) => schemaSection(drawn, tables)));
}
