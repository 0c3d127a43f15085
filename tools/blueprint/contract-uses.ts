import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { byCodeUnit } from './markdown.ts';
import type { ContractUse } from './module-map.ts';

const importPattern = /\bimport\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+\/contract\.ts)'/g;

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.split(path.sep).includes('testing'))
    .sort(byCodeUnit);
}

/**
 * Which module's code imports which other module's contract.ts, and the names it takes: the one door
 * a module has to another (decision 0021), read from the imports of `src/modules/<name>/` (tests and
 * `testing/` aside).
 */
export async function readContractUses(root: string, modules: readonly string[]): Promise<ContractUse[]> {
  const modulesDirectory = path.join(root, 'src', 'modules');
  const uses = new Map<string, { from: string; to: string; names: Set<string> }>();
  for (const from of modules) {
    for (const file of await sourceFiles(path.join(modulesDirectory, from))) {
      for (const match of (await readFile(file, 'utf8')).matchAll(importPattern)) {
        const target = path.relative(modulesDirectory, path.resolve(path.dirname(file), match[2] ?? '')).split(path.sep);
        const to = target[0] ?? '';
        if (target.length !== 2 || to === from || !modules.includes(to)) continue;
        const use = uses.get(`${from} ${to}`) ?? { from, to, names: new Set<string>() };
        for (const name of (match[1] ?? '').split(',')) {
          const bare = name.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0] ?? '';
          if (bare !== '') use.names.add(bare);
        }
        uses.set(`${from} ${to}`, use);
      }
    }
  }
  return [...uses.values()].map((use) => ({ from: use.from, to: use.to, names: [...use.names].sort(byCodeUnit) }))
    .sort((left, right) => byCodeUnit(`${left.from} ${left.to}`, `${right.from} ${right.to}`));
}
