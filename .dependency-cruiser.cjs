// Architecture rules from DESIGN.md and docs/architecture.md, checked in CI by `npm run check:architecture`.
// Paths are relative to the folder depcruise runs in (the repo root, or a fixture folder in
// scripts/check-architecture.test.ts), so every rule is written against `src/...`.
// `$1` in a `to` pattern is the module name captured by the rule's `from.path`.
const path = require('node:path');

const testFile = '\\.test\\.ts$';
const moduleDoor = '^src/modules/[^/]+/index\\.ts$';
const moduleContract = '^src/modules/[^/]+/contract\\.ts$';
const moduleTesting = '^src/modules/[^/]+/testing/';
// What only a checkout has: the local tools, the benchmark harness, the whole-system tests and their harness.
const checkoutOnly = '^(tools|bench|test)/';
const checkoutDoor = '^src/cli/checkout-tools\\.ts$';
const moduleRoutePolicies = '^src/modules/[^/]+/adapters/http/[^/]+-route-policies\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-purity',
      comment:
        'A domain file imports only files of its own module\'s domain/: no other layer, no other module, ' +
        'no npm package, no node builtin; only the shared kernel (src/kernel/) besides. (Tests beside it may use node:test and builders.)',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/domain/', pathNot: testFile },
      to: { pathNot: ['^src/modules/$1/domain/', '^src/kernel/'] },
    },
    {
      name: 'application-layer',
      comment:
        'An application file imports only its own module\'s domain/, application/ and contract.ts, and the shared kernel: ' +
        'no adapters, no platform, no npm package, no node builtin. Ports in application/ describe what it needs.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/application/', pathNot: testFile },
      to: { pathNot: ['^src/modules/$1/(domain/|application/|contract\\.ts$)', '^src/kernel/'] },
    },
    {
      name: 'module-boundary',
      comment:
        'Another module is reached only through its contract.ts (messages, client port, DTO types); ' +
        'its index.ts is the factory for composition roots and would load the whole module and its SDKs.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: testFile },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', moduleContract] },
    },
    {
      name: 'contract-purity',
      comment:
        'Other modules load a module only through its contract.ts, so a contract.ts never imports its own ' +
        'index.ts, adapters/ or testing/, nor an npm package: the factory and its SDKs stay out of every reader.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/contract\\.ts$' },
      to: { path: ['^src/modules/$1/(index\\.ts$|adapters/|testing/)', '(^|/)node_modules/'] },
    },
    {
      name: 'module-boundary-outside',
      comment:
        'Code outside src/modules/ (apps, platform, cli, scripts) reaches a module only through its index.ts: ' +
        'composition roots need its factory, and index.ts re-exports its contract. The one other door is ' +
        'its route policies (adapters/http/<name>-route-policies.ts), pure data the module registry carries ' +
        'to the edge and the gateway without loading the module.',
      severity: 'error',
      from: { pathNot: ['^src/modules/', testFile] },
      to: { path: '^src/modules/[^/]+/', pathNot: [moduleDoor, moduleRoutePolicies] },
    },
    {
      name: 'route-policies-purity',
      comment:
        'A module\'s route policies are read by the module registry, so by the gateway, the runner and the CLI, ' +
        'which must not load the module: they import types only, so loading them loads no code.',
      severity: 'error',
      from: { path: moduleRoutePolicies },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'module-boundary-test',
      comment:
        'A test inside a module may use its own module\'s internals and any module\'s testing/ folder, ' +
        'but reaches the rest of another module only through its contract.ts (a test that wires several ' +
        'modules by their factories belongs outside src/modules/).',
      severity: 'error',
      from: { path: `^src/modules/([^/]+)/.*${testFile}` },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', moduleContract, moduleTesting] },
    },
    {
      name: 'module-boundary-outside-test',
      comment: 'A test outside src/modules/ may use a module\'s index.ts and testing/ folder, nothing else inside it.',
      severity: 'error',
      from: { path: testFile, pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/', pathNot: [moduleDoor, moduleTesting] },
    },
    {
      name: 'platform-independence',
      comment: 'The platform kernel serves modules and apps; it never depends on them.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/(modules|apps)/' },
    },
    {
      name: 'kernel-purity',
      comment:
        'The shared kernel (src/kernel/) holds the pure values and functions every module means the same by ' +
        '(Money, backoff), so every layer may import it; it imports only itself: no module, no platform, ' +
        'no npm package, no node builtin. (Tests beside it may use node:test and fast-check.)',
      severity: 'error',
      from: { path: '^src/kernel/', pathNot: testFile },
      to: { pathNot: '^src/kernel/' },
    },
    {
      name: 'layout-direction',
      comment:
        'The house has one direction: composition roots (src/apps/), the command line (src/cli/, src/cli.ts), ' +
        'the local tools (tools/) and the benchmark (bench/) sit on top of modules, platform and kernel; ' +
        'nothing below them (nor scripts/) imports them. Tests may.',
      severity: 'error',
      from: { pathNot: ['^src/apps/', '^src/cli(/|\\.ts$)', '^tools/', '^bench/', '^test/', testFile] },
      to: { path: ['^src/apps/', '^src/cli(/|\\.ts$)', '^tools/', '^bench/'] },
    },
    {
      name: 'image-leaves-out',
      comment:
        'The production image carries src/ without its tests, and no tools/, bench/ or test/: so nothing in src/ ' +
        'loads them, except the command line\'s one door to them (src/cli/checkout-tools.ts). A type-only import erases.',
      severity: 'error',
      from: { path: '^src/', pathNot: [testFile, checkoutDoor] },
      to: { path: checkoutOnly, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'checkout-tools-on-demand',
      comment:
        'src/cli/checkout-tools.ts loads tools/ and bench/ only on demand (import()), so every other command ' +
        'starts where they are absent and the one asking for them is told plainly.',
      severity: 'error',
      from: { path: checkoutDoor },
      to: { path: checkoutOnly, dependencyTypesNot: ['type-only', 'dynamic-import'] },
    },
    {
      name: 'test-harness-for-tests',
      comment: 'test/ (the whole-system tests and their harness) is loaded by tests only.',
      severity: 'error',
      from: { pathNot: [testFile, '^test/'] },
      to: { path: '^test/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'packages/ holds what integrators install (the API client): it imports only its own package and its ' +
        'declared dependencies, never the server, so it runs in a browser and publishes on its own. Its ' +
        'generator and tests may read the server.',
      severity: 'error',
      from: { path: '^packages/([^/]+)/src/', pathNot: testFile },
      to: { path: '^(src|tools|bench|test|scripts)/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make load order fragile and layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Imports of npm packages and node builtins are still recorded as dependencies (so the layer
    // rules see them); their own files are not cruised.
    doNotFollow: { path: 'node_modules' },
    // The fixture tree deliberately breaks every rule; it is cruised only by its own test.
    exclude: { path: '^scripts/architecture-fixtures/' },
    // Type-only imports count: a domain file importing a type from an adapter is still a violation.
    tsPreCompilationDeps: true,
    // Absolute, so the same config works when depcruise runs inside a fixture folder.
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
