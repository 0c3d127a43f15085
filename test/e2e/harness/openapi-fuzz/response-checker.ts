import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FuzzResponse } from './fuzz-case.ts';
import type { FuzzOperation, JsonSchema, OpenApiDocument } from './openapi-document.ts';

/** A broken invariant: which one, and what shows it. */
export interface Violation {
  invariant: 'no 5xx' | 'problem+json' | 'refusal changes nothing' | 'declared response' | 'authorization';
  detail: string;
}

/** Checks answers against the document's declared responses and the problem+json contract. */
export function createResponseChecker(document: OpenApiDocument): (operation: FuzzOperation, response: FuzzResponse) => Violation[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: document.components ?? {} });
  const compiled = new Map<JsonSchema, ValidateFunction>();
  const validatorOf = (schema: JsonSchema) => {
    let validate = compiled.get(schema);
    if (validate === undefined) {
      const rooted = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as object;
      validate = ajv.compile(rooted);
      compiled.set(schema, validate);
    }
    return validate;
  };
  const problemSchema = document.components?.schemas?.Problem;
  if (problemSchema === undefined) throw new Error('the document declares no Problem schema');

  return (operation, response) => {
    const violations: Violation[] = [];
    const { statusCode } = response;
    const contentType = String(response.headers['content-type'] ?? '');
    const excerpt = `${statusCode} ${contentType} ${response.body.slice(0, 300)}`;
    if (statusCode >= 500) violations.push({ invariant: 'no 5xx', detail: excerpt });
    if (statusCode >= 400) {
      if (!contentType.startsWith('application/problem+json')) violations.push({ invariant: 'problem+json', detail: `content-type is not application/problem+json: ${excerpt}` });
      let problem: unknown;
      try {
        problem = JSON.parse(response.body);
      } catch {
        violations.push({ invariant: 'problem+json', detail: `the body is not JSON: ${excerpt}` });
        return violations;
      }
      const validate = validatorOf(problemSchema);
      if (!validate(problem)) violations.push({ invariant: 'problem+json', detail: `${ajv.errorsText(validate.errors)}: ${excerpt}` });
      const fields = problem as { status?: unknown; requestId?: unknown; type?: unknown; title?: unknown };
      if (fields.status !== statusCode) violations.push({ invariant: 'problem+json', detail: `status ${String(fields.status)} in a ${statusCode} answer: ${excerpt}` });
      if (typeof fields.requestId !== 'string' || fields.requestId === '') violations.push({ invariant: 'problem+json', detail: `no requestId: ${excerpt}` });
      else if (response.headers['x-request-id'] !== fields.requestId) violations.push({ invariant: 'problem+json', detail: `requestId ${fields.requestId} is not the x-request-id header ${String(response.headers['x-request-id'])}` });
      return violations;
    }
    if (statusCode >= 200 && statusCode < 300) {
      const declared = operation.responses[String(statusCode)];
      if (declared === undefined) {
        violations.push({ invariant: 'declared response', detail: `${statusCode} is not declared (declared: ${Object.keys(operation.responses).join(', ')}): ${excerpt}` });
        return violations;
      }
      if (declared.schema === undefined) return violations;
      if (!contentType.startsWith('application/json')) {
        violations.push({ invariant: 'declared response', detail: `a JSON body is declared, the content-type is ${contentType}: ${excerpt}` });
        return violations;
      }
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        violations.push({ invariant: 'declared response', detail: `the body is not JSON: ${excerpt}` });
        return violations;
      }
      const validate = validatorOf(declared.schema);
      if (!validate(body)) violations.push({ invariant: 'declared response', detail: `${ajv.errorsText(validate.errors)}: ${excerpt}` });
    }
    return violations;
  };
}
