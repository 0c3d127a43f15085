/**
 * Property-based fuzzing of the HTTP API from the OpenAPI document it serves itself: for every
 * operation, requests that follow the declared schemas and requests broken on purpose (wrong types,
 * boundary and huge numbers, empty and 100 kB strings, NUL and lone surrogates, missing and extra
 * fields, wrong content types, malformed JSON, repeated query parameters, bad percent-encoding),
 * each sent as the right caller, the wrong one and nobody, and the invariants every answer must keep.
 * The transport (inject or real HTTP) and the database to count rows in are the caller's.
 *
 * This file is the fuzzer's door; its parts live in openapi-fuzz/.
 */

export { operationsOf, type FuzzOperation, type JsonSchema, type OpenApiDocument, type OpenApiParameter } from './openapi-fuzz/openapi-document.ts';
export { callerKinds, type CallerKind, type FuzzCase, type FuzzHints, type FuzzRequest, type FuzzResponse, type MultipartFile } from './openapi-fuzz/fuzz-case.ts';
export { RawJson, toJsonText } from './openapi-fuzz/json-text.ts';
export { schemaValues } from './openapi-fuzz/schema-values.ts';
export { multipartBody, percentEncode } from './openapi-fuzz/request-parts.ts';
export { fuzzCases } from './openapi-fuzz/fuzz-cases.ts';
export { sweepCases } from './openapi-fuzz/sweep-cases.ts';
export { changedTables, countRows, type RowCounts } from './openapi-fuzz/row-counts.ts';
export { createResponseChecker, type Violation } from './openapi-fuzz/response-checker.ts';
export { describeCase, reportFindings, type FuzzFinding } from './openapi-fuzz/findings.ts';
export { fuzzOperation, type FuzzAccess, type FuzzTarget } from './openapi-fuzz/fuzz-operation.ts';
