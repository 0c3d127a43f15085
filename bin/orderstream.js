#!/usr/bin/env node
// The `orderstream` command; the TypeScript sources run directly on Node's type stripping.
import '../src/cli.ts';
