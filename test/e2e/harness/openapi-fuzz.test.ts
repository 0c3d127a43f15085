import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  changedTables, createResponseChecker, fuzzCases, fuzzOperation, operationsOf, percentEncode, sweepCases, toJsonText, RawJson,
  type FuzzRequest, type FuzzResponse, type OpenApiDocument,
} from './openapi-fuzz.ts';

// The fuzzer's own checks, against a small document and a fake target: each invariant can fail.

const document: OpenApiDocument = {
  components: {
    schemas: {
      Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, requestId: { type: 'string' } }, required: ['type', 'title', 'status'] },
      Item: { type: 'object', properties: { id: { type: 'string' }, count: { type: 'integer', minimum: 0 } }, required: ['id', 'count'], additionalProperties: false },
      NewItem: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 10 }, count: { type: 'integer', minimum: 0, maximum: 5 } }, required: ['name'], additionalProperties: false },
    },
  },
  paths: {
    '/items/{id}': {
      get: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string', minLength: 1, maxLength: 20 } }, { in: 'query', name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 9 } }],
        responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } }, 404: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
      },
    },
    '/items': {
      get: {
        parameters: [{ in: 'query', name: 'cursor', schema: { type: 'string' } }],
        responses: { 200: { content: { 'application/json': { schema: { type: 'object' } } } } },
      },
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewItem' } } } },
        responses: { 201: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } } },
      },
    },
  },
};

const [getItem, listItems, postItem] = operationsOf(document);
const check = createResponseChecker(document);
const problem = (status: number, requestId = 'r-1'): FuzzResponse => ({
  statusCode: status, headers: { 'content-type': 'application/problem+json; charset=utf-8', 'x-request-id': requestId },
  body: JSON.stringify({ type: 'https://orderstream.dev/problems/x', title: 'X', status, requestId }),
});

describe('the OpenAPI fuzzer', () => {
  test('when the document is read, then each operation has its method, both path templates, parameters, body and responses', () => {
    assert.ok(getItem && postItem);
    assert.equal(getItem.key, 'GET /items/{id}');
    assert.equal(getItem.route, '/items/:id');
    assert.deepEqual(getItem.parameters.map((parameter) => parameter.name), ['id', 'limit']);
    assert.deepEqual(Object.keys(getItem.responses), ['200', '404']);
    assert.equal(postItem.body?.$ref, '#/components/schemas/NewItem');
  });

  test('when an answer is a 500, then "no 5xx" is broken even if it is problem+json', () => {
    assert.ok(getItem);
    assert.deepEqual(check(getItem, problem(500)).map((violation) => violation.invariant), ['no 5xx']);
  });

  test('when a 4xx is plain JSON, lacks a request id or states another status, then "problem+json" is broken', () => {
    assert.ok(getItem);
    const plain = { ...problem(400), headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' } };
    assert.deepEqual(check(getItem, plain).map((violation) => violation.invariant), ['problem+json']);
    const withoutId = { ...problem(404), body: JSON.stringify({ type: 't', title: 'T', status: 404 }) };
    assert.deepEqual(check(getItem, withoutId).map((violation) => violation.invariant), ['problem+json']);
    const otherStatus = { ...problem(404), body: JSON.stringify({ type: 't', title: 'T', status: 400, requestId: 'r-1' }) };
    assert.deepEqual(check(getItem, otherStatus).map((violation) => violation.invariant), ['problem+json']);
    assert.deepEqual(check(getItem, { ...problem(400), body: 'Bad Request' }).map((violation) => violation.invariant), ['problem+json']);
    assert.deepEqual(check(getItem, problem(404)), []);
  });

  test('when a 2xx is undeclared or does not match its schema, then "declared response" is broken', () => {
    assert.ok(getItem);
    const ok = (status: number, body: unknown): FuzzResponse => ({ statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.deepEqual(check(getItem, ok(200, { id: 'a', count: 1 })), []);
    assert.deepEqual(check(getItem, ok(200, { id: 'a', count: -1 })).map((violation) => violation.invariant), ['declared response']);
    assert.deepEqual(check(getItem, ok(200, { id: 'a', count: 1, extra: true })).map((violation) => violation.invariant), ['declared response']);
    assert.deepEqual(check(getItem, ok(204, {})).map((violation) => violation.invariant), ['declared response']);
  });

  test('when a lone surrogate is percent-encoded, then it becomes the three bytes a careless encoder writes, and pairs stay UTF-8', () => {
    assert.equal(percentEncode('a\uD800b'), 'a%ED%A0%80b');
    assert.equal(percentEncode('😀'), '%F0%9F%98%80');
  });

  test('when raw JSON is placed in a body, then it is written as given', () => {
    assert.equal(toJsonText({ a: new RawJson('1e400'), b: [new RawJson('-0')] }), '{"a":1e400,"b":[-0]}');
  });

  test('when row counts differ, then the changed tables are named with both counts', () => {
    assert.deepEqual(changedTables(new Map([['a.x', 1], ['a.y', 2]]), new Map([['a.x', 1], ['a.y', 3], ['a.z', 1]])), ['a.y: 2 → 3', 'a.z: 0 → 1']);
  });

  test('when cases are generated, then valid ones follow the schema and broken ones name what they broke', () => {
    assert.ok(postItem);
    const samples = fc.sample(fuzzCases(postItem, document), { numRuns: 300, seed: 1 });
    const valid = samples.filter((sample) => sample.valid);
    assert.ok(valid.length > 50 && valid.length < 200, `${valid.length} valid of 300`);
    for (const sample of valid) {
      const body = JSON.parse(String(sample.request.payload)) as { name: string; count?: number };
      assert.ok(body.name.length >= 1 && body.name.length <= 10 && (body.count === undefined || (body.count >= 0 && body.count <= 5)), JSON.stringify(body));
    }
    const mutations = new Set(samples.filter((sample) => !sample.valid).map((sample) => sample.mutation.split(':')[0]));
    for (const expected of ['body name', 'malformed JSON', 'no content-type', 'content-type text/plain']) {
      assert.ok([...mutations].some((mutation) => mutation?.startsWith(expected)), `no "${expected}" among ${[...mutations].join(', ')}`);
    }
  });

  test('when a target answers a refusal and a row appears, then "refusal changes nothing" is found once, with its seed and path', async () => {
    assert.ok(getItem);
    let rows = 0;
    const target = {
      send: (request: FuzzRequest): Promise<FuzzResponse> => {
        if (request.url.includes('%00')) rows += 1;
        return Promise.resolve(request.url.includes('%00') ? problem(400) : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"a","count":0}' });
      },
      rowCounts: () => Promise.resolve(new Map([['items.items', rows]])),
    };
    const callers = { required: {}, other: {}, anonymous: {}, forged: {} };
    const findings = await fuzzOperation({ operation: getItem, document, hints: {}, access: 'public', callers, target, check, numRuns: 300, seed: 5 });
    const refusals = findings.filter((finding) => finding.invariant === 'refusal changes nothing');
    assert.ok(refusals.length > 0, 'the refusal that wrote a row is found');
    assert.ok(refusals.every((finding) => finding.status === 400 && finding.seed === 5 && /^\d+$/.test(finding.path)));
    const replayed = await fuzzOperation({ operation: getItem, document, hints: {}, access: 'public', callers, target, check, numRuns: 300, seed: 5, path: refusals[0]?.path ?? '' });
    assert.equal(replayed[0]?.invariant, 'refusal changes nothing', 'the reported path replays the same failure');
  });

  test('when an operation is swept, then every place gets each of its dangerous values once, as the right caller, the same on every run', () => {
    assert.ok(getItem && postItem && listItems);
    const cases = sweepCases(getItem, document, { byOperation: { 'GET /items/{id}': { id: fc.constant('item-1') } } }, 7);
    assert.deepEqual(cases.map((sweep) => sweep.request.url), sweepCases(getItem, document, { byOperation: { 'GET /items/{id}': { id: fc.constant('item-1') } } }, 7).map((sweep) => sweep.request.url));
    assert.equal(cases[0]?.mutation, 'valid');
    assert.equal(cases[0].request.url, '/items/item-1');
    assert.ok(cases.every((sweep) => sweep.caller === 'required' && !sweep.routeChanged));
    const urls = new Map(cases.map((sweep) => [sweep.mutation, sweep.request.url]));
    assert.equal(urls.get('path id: NUL'), '/items/%00');
    assert.equal(urls.get('path id: NUL inside text'), '/items/ite%00m-1');
    assert.equal(urls.get('path id: %zz'), '/items/%zz');
    assert.equal(urls.get('query limit: 1e309'), '/items/item-1?limit=1e309');
    assert.equal(urls.get('query limit: 2^53 + 1'), '/items/item-1?limit=9007199254740993');
    assert.equal(urls.get('path id: -1'), undefined, 'numbers go only where a number goes');

    const bodies = new Map(sweepCases(postItem, document, {}, 7).map((sweep) => [sweep.mutation, String(sweep.request.payload)]));
    const nameIn = (mutation: string) => (JSON.parse(bodies.get(mutation) ?? '{}') as { name?: string }).name;
    assert.equal(nameIn('body name: NUL'), '\u0000');
    assert.match(bodies.get('body name: lone surrogate inside text') ?? '', /\\ud800/);
    assert.equal(nameIn('body name: 100 kB string')?.length, 100 * 1024);
    assert.equal(bodies.get('body count: 1e309')?.includes('"count":1e309'), true);
    assert.equal(nameIn('body count: -1'), 'sweep', 'the other fields keep their valid values');

    const cursors = sweepCases(listItems, document, {}, 7).filter((sweep) => sweep.mutation.startsWith('query cursor: cursor of'));
    const decoded = cursors.map((sweep) => JSON.parse(Buffer.from(decodeURIComponent(sweep.request.url.split('cursor=')[1] ?? ''), 'base64url').toString('utf8')) as unknown[]);
    for (const date of ['+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', 'not a date', 1_767_225_600_000]) {
      assert.ok(decoded.some(([createdAt]) => createdAt === date), `a cursor of ${String(date)}`);
    }
    assert.ok(decoded.some(([, id]) => id === '\u0000'), 'a cursor with an invalid id');
  });

  test('when a swept value makes the target answer 500, then it is found with the sweep case that replays it', async () => {
    assert.ok(postItem);
    const target = {
      send: (request: FuzzRequest): Promise<FuzzResponse> => Promise.resolve(String(request.payload).includes('"name":"\\u0000"') ? problem(500) : problem(400)),
      rowCounts: () => Promise.resolve(new Map()),
    };
    const callers = { required: {}, other: {}, anonymous: {}, forged: {} };
    const options = { operation: postItem, document, hints: {}, access: 'public' as const, callers, target, check, numRuns: 0, seed: 3 };
    const found = await fuzzOperation({ ...options, sweep: true });
    assert.deepEqual(found.map((finding) => [finding.invariant, finding.mutation]), [['no 5xx', 'body name: NUL']]);
    assert.equal(found[0]?.path, '');
    assert.equal(typeof found[0].sweepCase, 'number');
    const replayed = await fuzzOperation({ ...options, sweepCase: found[0].sweepCase ?? -1 });
    assert.deepEqual(replayed.map((finding) => finding.mutation), ['body name: NUL']);
    assert.deepEqual(await fuzzOperation({ ...options, sweepCase: 0 }), [], 'another case does not replay it');
  });
});
