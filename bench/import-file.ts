import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The header of a catalogue import file, as `POST /v1/imports` reads it. */
export const importHeader = 'sku,name,description,price,currency,stock';

/** One valid row of a generated import file (1-based `index`), with a description, so that a row is about 100 bytes. */
export function importRow(index: number, count: number, skuPrefix: string): string {
  return `${skuPrefix}-${String(index).padStart(7, '0')},Measured product ${index},"Generated for the import measurement, row ${index} of ${count}",` +
    `${100 + (index % 9_900)},${index % 3 === 0 ? 'USD' : 'EUR'},${index % 1_000}`;
}

/** Writes a catalogue import file of `count` valid rows (SKUs `<skuPrefix>-0000001` on) to `file`; answers its size in bytes. */
export async function writeImportFile(file: string, count: number, skuPrefix = 'MEASURE'): Promise<number> {
  const out = createWriteStream(file);
  out.write(`${importHeader}\n`);
  for (let index = 1; index <= count; index += 1) {
    if (!out.write(`${importRow(index, count, skuPrefix)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return (await stat(file)).size;
}
