/**
 * The security headers of every response of the public API: helmet's defaults for a JSON API, written
 * out once. They depend on nothing in the request, so they are a frozen table set as it is, not
 * middleware that builds them again per response. The API answers JSON only, so nothing may load or
 * frame it (`default-src 'none'`, `frame-ancestors 'none'`); /docs sets its own content policy.
 * `security-headers.test.ts` keeps the table equal to what helmet sends with these options.
 */
export const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});
