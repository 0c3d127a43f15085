#!/usr/bin/env node
// The `orderstream` command; the TypeScript sources run directly on Node's type stripping, so the
// version is checked first (a static import of the sources would fail before any line ran).
import './node-version.js';

await import('../src/cli.ts');
