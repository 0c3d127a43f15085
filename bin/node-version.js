// Stops at once on a Node.js too old for OrderStream, with one line saying what to do, instead of
// the loader's "Unknown file extension .ts" (older Node.js cannot strip TypeScript's types). Plain
// JavaScript, so that any Node.js can run it; the minimum is package.json's `engines.node`.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

// Read as text: this file must run on any Node.js, and it needs one string of the manifest.
const manifest = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
const range = /"engines"\s*:\s*\{[^}]*"node"\s*:\s*"([^"]*)"/.exec(manifest)?.[1] ?? '';
const minimum = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range)?.[1];
if (minimum === undefined) throw new Error(`package.json engines.node must read ">=X.Y.Z", not "${range}"`);

/**
 * Negative when `a` is an older version than `b` (numeric parts, missing ones read as 0).
 * @param {string} a
 * @param {string} b
 */
function compareVersions(a, b) {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

if (compareVersions(process.versions.node, minimum) < 0) {
  process.stderr.write(
    `OrderStream needs Node.js ${minimum} or newer (24 recommended); this is Node.js ${process.versions.node} (${process.execPath}). `
    + 'Get Node.js 24 with `nvm install` in this folder (it reads .nvmrc) or from https://nodejs.org/en/download, then run the command again.\n',
  );
  process.exit(1);
}
