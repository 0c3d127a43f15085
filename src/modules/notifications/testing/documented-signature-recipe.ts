import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type VerifySignature = (secret: string, signatureHeader: string | string[] | undefined, rawBody: string, toleranceSeconds?: number) => boolean;

const docs = new URL('../../../../docs/webhooks.md', import.meta.url);

/**
 * The signature check of docs/webhooks.md, loaded from the document itself (the block after the
 * `verify-recipe` marker), so the tests prove the recipe receivers will copy, not a look-alike.
 */
export async function loadDocumentedVerifier(): Promise<VerifySignature> {
  const text = await readFile(docs, 'utf8');
  const block = /<!-- verify-recipe[^>]*-->\s*```js\n([\s\S]*?)```/.exec(text)?.[1];
  if (block === undefined) throw new Error('docs/webhooks.md has no verify-recipe block');
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-recipe-'));
  try {
    const file = path.join(folder, 'verify.mjs');
    await writeFile(file, block);
    const loaded = await import(pathToFileURL(file).href) as { verifyOrderStreamSignature?: VerifySignature };
    if (typeof loaded.verifyOrderStreamSignature !== 'function') throw new Error('the recipe does not export verifyOrderStreamSignature');
    return loaded.verifyOrderStreamSignature;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
