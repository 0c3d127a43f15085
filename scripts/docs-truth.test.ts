import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

/**
 * What the docs name must exist, so that a reader is never sent after something that is gone (or
 * never was): every command, schema, link and environment variable in README.md and docs/, checked
 * against the code; commands and schemas the other way too.
 */
const root = path.resolve(import.meta.dirname, '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

function filesUnder(folder: string, keep: (file: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(child);
      } else if (keep(child)) {
        found.push(child);
      }
    }
  };
  walk(folder);
  return found;
}

const docs = ['README.md', 'deploy/README.md', ...filesUnder('docs', (file) => file.endsWith('.md'))];
const code = [
  ...['src', 'scripts', 'bin', 'infra', 'deploy', 'tools', 'test'].flatMap((folder) => filesUnder(folder, (file) => !file.endsWith('.md'))),
  ...filesUnder('bench', (file) => !file.endsWith('.md') && !file.startsWith(path.join('bench', 'results'))),
  '.ci/run', 'Dockerfile', 'package.json',
];
const codeText = code.map(read).join('\n');

/** The top-level commands and their subcommands, as the CLI's usage text lists them. */
function cliCommands(): Map<string, Set<string>> {
  const cli = read('src/cli/usage.ts');
  const usage = /const usage = `([\s\S]*?)`;/.exec(cli)?.[1] ?? '';
  const commands = new Map<string, Set<string>>();
  for (const match of usage.matchAll(/^ {2}([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/gm)) {
    const [, command = '', subcommand] = match;
    const subcommands = commands.get(command) ?? new Set<string>();
    if (subcommand !== undefined) subcommands.add(subcommand);
    commands.set(command, subcommands);
  }
  return commands;
}

/** Commands the docs show run: `orderstream X [Y]`, `node bin/orderstream.js X [Y]`, `npm run` aside. */
function documentedCommands(): { file: string; command: string; subcommand: string | undefined }[] {
  const found: { file: string; command: string; subcommand: string | undefined }[] = [];
  for (const file of docs) {
    for (const match of read(file).matchAll(/(?:(?<![/.-]|-n )\borderstream|node bin\/orderstream\.js|node src\/cli\.ts) ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)) {
      found.push({ file, command: match[1] ?? '', subcommand: match[2] });
    }
  }
  return found;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*_]/g, '').replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const text = read(file).replace(/^```[\s\S]*?^```/gm, '');
  for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchorOf(match[1] ?? '');
    let anchor = base;
    for (let repeat = 1; anchors.has(anchor); repeat += 1) anchor = `${base}-${String(repeat)}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('the docs and the code', () => {
  test('when the docs show an orderstream command, then the CLI has it (and its subcommand)', () => {
    const commands = cliCommands();
    const unknown = documentedCommands().filter(({ command, subcommand }) => {
      const subcommands = commands.get(command);
      if (subcommands === undefined) return true;
      return subcommands.size > 0 && subcommand !== undefined && !subcommands.has(subcommand) && !/^(?:with|and|or|to|on|in|of|as|is|runs|the|a|an|when|then|again|once)$/.test(subcommand);
    });
    assert.deepEqual(unknown.map(({ file, command, subcommand }) => `${file}: ${command} ${subcommand ?? ''}`.trim()), []);
  });

  test('when the CLI has a command, then the README\'s Commands section names it', () => {
    const section = /^## Commands$([\s\S]*?)^## /m.exec(read('README.md'))?.[1] ?? '';
    assert.notEqual(section, '', 'README.md has a "## Commands" section');
    const missing: string[] = [];
    for (const [command, subcommands] of cliCommands()) {
      if (subcommands.size === 0 && !new RegExp(`\\b${command}\\b`).test(section)) missing.push(command);
      for (const subcommand of subcommands) if (!section.includes(`${command} ${subcommand}`)) missing.push(`${command} ${subcommand}`);
    }
    assert.deepEqual(missing, []);
  });

  test('when docs/architecture.md lists the schemas, then they are exactly the ones the migrations make', () => {
    const modules = readdirSync(path.join(root, 'src/modules')).filter((name) => existsSync(path.join(root, 'src/modules', name, 'adapters/postgres/migrations')));
    assert.ok(modules.length >= 7, `modules with migrations: ${modules.join(', ')}`);
    const platformSchemas = ['messaging', 'audit', 'platform', 'pgboss'];
    for (const schema of platformSchemas) assert.ok(codeText.includes(`${schema}.`), `the code uses the ${schema} schema`);
    const architecture = read('docs/architecture.md');
    const sentence = /one schema per module \(([^)]*)\)([^.]*)\./.exec(architecture);
    assert.ok(sentence !== null, 'docs/architecture.md says "one schema per module (…)"');
    const named = [...`${sentence[1] ?? ''} ${sentence[2] ?? ''}`.matchAll(/`([a-z_]+)`/g)].map((match) => match[1] ?? '');
    assert.deepEqual([...new Set(named)].sort(), [...modules, ...platformSchemas].sort());
  });

  test('when a doc links to a file or a heading in this repository, then it exists', () => {
    const broken: string[] = [];
    for (const file of docs) {
      const text = read(file).replace(/^```[\s\S]*?^```/gm, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/i.test(target)) continue;
        const [linked = '', anchor] = target.split('#');
        const resolved = linked === '' ? file : path.join(path.dirname(file), decodeURIComponent(linked));
        if (!existsSync(path.join(root, resolved))) {
          // Benchmark results are written by each run and kept out of git.
          if (!resolved.startsWith('bench/results/')) broken.push(`${file}: ${target}`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md') && statSync(path.join(root, resolved)).isFile() && !anchorsOf(resolved).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  test('when the README\'s import example runs after the seed, then it creates products rather than overwriting the demo ones', () => {
    const example = /printf 'sku,name,description,price,currency,stock((?:\\n[^\\']+)+)\\n' > products\.csv/.exec(read('README.md'));
    assert.ok(example !== null, 'README.md writes products.csv with printf');
    const skus = (example[1] ?? '').split('\\n').filter((line) => line !== '').map((line) => line.split(',')[0] ?? '');
    assert.ok(skus.length > 0);
    const seeded = [...read('tools/seed.ts').matchAll(/sku: '([^']+)'/g)].map((match) => match[1]);
    assert.deepEqual(skus.filter((sku) => seeded.includes(sku)), [], `the seed makes ${seeded.join(', ')}`);
  });

  test('when the docs name an environment variable, then the code reads it', () => {
    const missing = new Set<string>();
    for (const file of docs) {
      for (const match of read(file).matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)) {
        const name = match[1] ?? '';
        if (!new RegExp(`\\b${name}\\b`).test(codeText)) missing.add(`${file}: ${name}`);
      }
    }
    assert.deepEqual([...missing], []);
  });
});
