import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { servedDocument } from '../../../test/e2e/harness/served-document.ts';
import { generatedTypes, snapshotText } from './openapi-snapshot.ts';

const packageDir = path.resolve(import.meta.dirname, '..');
const regenerate = 'run `npm run generate:client` and commit packages/client/openapi.json and src/openapi-types.ts';

test('when the app serves /openapi.json, then it equals the snapshot the client\'s types were generated from, and the types are what the generator makes of it', async () => {
  const served = await servedDocument('/openapi.json');
  const snapshot = await readFile(path.join(packageDir, 'openapi.json'), 'utf8');
  assert.ok(snapshotText(served) === snapshot, `/openapi.json differs from packages/client/openapi.json: ${regenerate}`);
  const types = await readFile(path.join(packageDir, 'src/openapi-types.ts'), 'utf8');
  assert.ok(types === await generatedTypes(snapshot), `packages/client/src/openapi-types.ts was not generated from packages/client/openapi.json: ${regenerate}`);
});
