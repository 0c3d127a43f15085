// The `orderstream` command: bin/orderstream.js, the image's ENTRYPOINT and the tests run this file.
// Each command is a file in src/cli/; src/cli/main.ts parses the command line and dispatches, and
// src/cli/checkout-tools.ts loads, on demand, what runs only from a checkout (tools/, bench/).
import { runCommandLine } from './cli/main.ts';

void runCommandLine(process.argv.slice(2));
