/**
 * The Node.js flags an OrderStream server process starts with wherever this repository starts one:
 * `npm start`, the local services runner (`npm run services`) and the benchmark (decision 0031).
 *
 * - `--max-old-space-size=512`: V8 lets its old generation grow to a multiple of what is live
 *   before collecting it, and the multiple follows the heap's limit: up to 4× under Node's default
 *   limit on a large machine (4 GB here), about 1.4× under 512 MB. A 100,000-row import keeps well
 *   under 100 MB live, yet grew the heap to some 300 MB; under this limit it stays near 150 MB.
 * - `--max-semi-space-size=16`: Node 24's young generation may grow to three 64 MB semi-spaces on a
 *   large machine; three of 16 MB kept about 100 MB less resident at the import's peak.
 *
 * Together they took the import's peak RSS from about 430 MB to about 260 MB, for about a fifth
 * more CPU in garbage collection (docs/benchmarks.md). Where a container's memory limit applies,
 * Node sizes the heap from that limit, and NODE_OPTIONS may set these (deploy/README.md). The
 * process also runs without them, on more memory.
 */
export const serverNodeFlags: readonly string[] = ['--max-old-space-size=512', '--max-semi-space-size=16'];
