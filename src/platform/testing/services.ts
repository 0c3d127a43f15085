/**
 * Integration tests that need a service read its address from the environment. Without it they
 * skip with a printed reason, so `npm test` passes on any machine; with REQUIRE_SERVICES=1 (CI)
 * a missing service fails the test instead, so nothing is skipped unnoticed.
 */
export function requireService(name: string, variable: string): { url: string; skip: false } | { url: undefined; skip: string } {
  const url = process.env[variable];
  if (url !== undefined && url !== '') return { url, skip: false };
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`${name} is required (REQUIRE_SERVICES=1) but ${variable} is not set`);
  }
  return { url: undefined, skip: `${name} not available: set ${variable} to run these tests` };
}
