import type { FuzzCase } from './fuzz-case.ts';
import type { Violation } from './response-checker.ts';

/** What a fuzzing run found, and how it is told: each finding with its case and the command that replays it. */

/** A distinct broken invariant, with one case that shows it and how to replay that case. */
export interface FuzzFinding {
  operation: string;
  invariant: Violation['invariant'];
  mutation: string;
  status: number;
  detail: string;
  example: string;
  /** `FUZZ_SEED` and `FUZZ_PATH` that replay a random case (`path` is empty for a sweep case). */
  seed: number;
  path: string;
  /** The index in `sweepCases` (with the same seed) of a sweep case: `FUZZ_SWEEP_CASE` replays it. */
  sweepCase?: number;
}

/** A short, readable account of a case: who sent what, and the first bytes of its body. */
export function describeCase(fuzzCase: FuzzCase): string {
  const { request } = fuzzCase;
  const payload = request.payload === undefined ? '' : ` body ${JSON.stringify(String(request.payload).slice(0, 200))}${String(request.payload).length > 200 ? `… (${String(request.payload).length} characters)` : ''}`;
  const url = request.url.length > 200 ? `${request.url.slice(0, 200)}… (${request.url.length} characters)` : request.url;
  const headers = Object.entries(request.headers).filter(([name]) => name !== 'authorization')
    .map(([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 60)}…` : value}`).join('; ');
  return `${request.method} ${url} as ${fuzzCase.caller} [${fuzzCase.mutation}]${headers === '' ? '' : ` {${headers}}`}${payload}`;
}

/** The findings as a report: each with the case that shows it and the command that replays that case from `testFile`. */
export function reportFindings(findings: readonly FuzzFinding[], testFile: string): string {
  return findings.map((finding) => [
    `- [${finding.invariant}] ${finding.operation} answered ${finding.status} to ${finding.mutation}`,
    `    ${finding.example}`,
    `    → ${finding.detail}`,
    `    replay: FUZZ_OPERATION='${finding.operation}' FUZZ_SEED=${finding.seed} ${finding.sweepCase === undefined ? `FUZZ_PATH=${finding.path}` : `FUZZ_SWEEP_CASE=${finding.sweepCase}`} npm test -- ${testFile}`,
  ].join('\n')).join('\n');
}
