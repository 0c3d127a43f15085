import fc from 'fast-check';
import type { CallerKind, FuzzCase, FuzzHints, FuzzRequest, FuzzResponse } from './fuzz-case.ts';
import { describeCase, type FuzzFinding } from './findings.ts';
import { fuzzCases } from './fuzz-cases.ts';
import type { FuzzOperation, OpenApiDocument } from './openapi-document.ts';
import type { Violation } from './response-checker.ts';
import { changedTables, type RowCounts } from './row-counts.ts';
import { sweepCases } from './sweep-cases.ts';

/** Where fuzzed requests go, and how to count what they change. */
export interface FuzzTarget {
  send(request: FuzzRequest): Promise<FuzzResponse>;
  /** Row counts of the database(s) behind the target. */
  rowCounts(): Promise<RowCounts>;
  /** Waits until what an accepted request set off in the background has finished, so it is not taken for the next request's doing. */
  settle?(): Promise<void>;
}

/** Thrown while replaying a case, so fast-check shrinks it and keeps what it broke. */
class ViolationError extends Error {
  readonly statusCode: number;
  readonly violations: readonly Violation[];
  constructor(statusCode: number, violations: readonly Violation[]) {
    super(`${statusCode}: ${violations.map((violation) => `${violation.invariant}: ${violation.detail}`).join('; ')}`);
    this.name = 'ViolationError';
    this.statusCode = statusCode;
    this.violations = violations;
  }
}

/** Who may call an operation: the route policy's access. */
export type FuzzAccess = 'public' | 'customer' | 'admin' | 'service';

/**
 * Sends the sweep of `operation` (with `sweep`), then `numRuns` generated cases, and checks every
 * answer: never 5xx; every 4xx is problem+json with type, title, status and the request id; a
 * refused request leaves every row count as it was (unless `mayChange` allows the table for that
 * answer); a 2xx is declared and matches its schema; a caller without the route's role is never
 * served. Every case is sent and each distinct finding (invariant, status, what was broken) is
 * returned once, with what replays it. With `path` given, only that random case runs (and fast-check
 * shrinks it); with `sweepCase`, only that sweep case.
 */
export async function fuzzOperation(options: {
  operation: FuzzOperation;
  document: OpenApiDocument;
  hints: FuzzHints;
  access: FuzzAccess;
  /** Headers that make each kind of caller (the bearer token, or none). */
  callers: Readonly<Record<CallerKind, Readonly<Record<string, string>>>>;
  target: FuzzTarget;
  check: (operation: FuzzOperation, response: FuzzResponse) => Violation[];
  numRuns: number;
  seed: number;
  path?: string;
  /** Sends the deterministic sweep (see sweepCases) before the random cases. */
  sweep?: boolean;
  sweepCase?: number;
  mayChange?: (operation: FuzzOperation, statusCode: number, table: string) => boolean;
}): Promise<FuzzFinding[]> {
  const { operation, target, check } = options;
  let baseline = await target.rowCounts();
  const findings = new Map<string, FuzzFinding>();
  let run = 0;

  const examine = async (fuzzCase: FuzzCase): Promise<{ violations: Violation[]; statusCode: number }> => {
    const request = { ...fuzzCase.request, headers: { ...options.callers[fuzzCase.caller], ...fuzzCase.request.headers } };
    const response = await target.send(request);
    const violations = check(operation, response).filter((violation) => !fuzzCase.routeChanged || violation.invariant !== 'declared response');
    if (!fuzzCase.routeChanged && options.access !== 'public' && fuzzCase.caller !== 'required' && response.statusCode < 300) {
      violations.push({ invariant: 'authorization', detail: `a ${fuzzCase.caller} caller of a ${options.access} route was answered ${response.statusCode}` });
    }
    const accepted = response.statusCode >= 200 && response.statusCode < 300;
    if (accepted && operation.method !== 'GET') await target.settle?.();
    const after = await target.rowCounts();
    if (response.statusCode >= 400) {
      const changed = changedTables(baseline, after).filter((change) => !(options.mayChange?.(operation, response.statusCode, change.split(':')[0] ?? '') ?? false));
      if (changed.length > 0) violations.push({ invariant: 'refusal changes nothing', detail: `a ${response.statusCode} answer changed ${changed.join(', ')}` });
    }
    baseline = after;
    return { violations, statusCode: response.statusCode };
  };

  const record = (fuzzCase: FuzzCase, statusCode: number, violations: readonly Violation[], replay: { path: string } | { sweepCase: number }) => {
    for (const violation of violations) {
      const key = `${violation.invariant}|${statusCode}|${fuzzCase.mutation}`;
      if (findings.has(key)) continue;
      findings.set(key, {
        operation: operation.key, invariant: violation.invariant, mutation: fuzzCase.mutation, status: statusCode, detail: violation.detail,
        example: describeCase(fuzzCase), seed: options.seed, ...('path' in replay ? replay : { path: '', sweepCase: replay.sweepCase }),
      });
    }
  };

  if ((options.sweep === true || options.sweepCase !== undefined) && options.path === undefined) {
    const sweep = sweepCases(operation, options.document, options.hints, options.seed);
    for (const [index, fuzzCase] of sweep.entries()) {
      if (options.sweepCase !== undefined && index !== options.sweepCase) continue;
      const { violations, statusCode } = await examine(fuzzCase);
      if (process.env.FUZZ_VERBOSE !== undefined) console.log(`sweep ${index}`, statusCode, violations.length, describeCase(fuzzCase).slice(0, 300));
      record(fuzzCase, statusCode, violations, { sweepCase: index });
    }
    if (options.sweepCase !== undefined) return [...findings.values()];
  }

  const cases = fuzzCases(operation, options.document, options.hints);
  if (options.path !== undefined) return replayCase(cases, examine, { operation, seed: options.seed, path: options.path, numRuns: options.numRuns });
  await fc.check(fc.asyncProperty(cases, async (fuzzCase) => {
    const path = String(run);
    run += 1;
    const { violations, statusCode } = await examine(fuzzCase);
    // FUZZ_VERBOSE=1 prints every exchange, to see what the generators send.
    if (process.env.FUZZ_VERBOSE !== undefined) console.log(statusCode, violations.length, describeCase(fuzzCase).slice(0, 300));
    record(fuzzCase, statusCode, violations, { path });
    return true;
  }), { seed: options.seed, numRuns: options.numRuns });
  return [...findings.values()];
}

/** Replays the random case at `path` alone (fast-check shrinks it when it breaks an invariant) and returns what it broke. */
async function replayCase(
  cases: fc.Arbitrary<FuzzCase>,
  examine: (fuzzCase: FuzzCase) => Promise<{ violations: Violation[]; statusCode: number }>,
  options: { operation: FuzzOperation; seed: number; path: string; numRuns: number },
): Promise<FuzzFinding[]> {
  const { operation } = options;
  const details = await fc.check(fc.asyncProperty(cases, async (fuzzCase) => {
    const { violations, statusCode } = await examine(fuzzCase);
    if (violations.length > 0) throw new ViolationError(statusCode, violations);
  }), { seed: options.seed, path: options.path, numRuns: options.numRuns, endOnFailure: false });
  if (!details.failed || details.counterexample === null) return [];
  const [fuzzCase] = details.counterexample;
  const error = details.errorInstance;
  if (!(error instanceof ViolationError)) throw error;
  return error.violations.map((violation) => ({
    operation: operation.key, invariant: violation.invariant, mutation: fuzzCase.mutation, status: error.statusCode, detail: violation.detail,
    example: describeCase(fuzzCase), seed: options.seed, path: details.counterexamplePath,
  }));
}
