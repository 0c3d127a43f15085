import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { storedDocumentKeys } from './job-documents.ts';

describe('a job\'s stored documents', () => {
  test('when an import is asked for its documents, then it has its upload, or none without one', () => {
    assert.deepEqual(storedDocumentKeys({ id: 'job_1', kind: 'catalog-import', inputKey: 'imports/job_1.csv', input: null }, []), ['imports/job_1.csv']);
    assert.deepEqual(storedDocumentKeys({ id: 'job_2', kind: 'catalog-import', inputKey: null, input: null }, []), []);
  });

  test('when an export is asked for its documents, then it has its recorded parts and the one after them an attempt may have left unrecorded', () => {
    const input = { format: 'jsonl', filter: {}, placedBefore: '2026-12-01T10:00:00.000Z' };
    assert.deepEqual(
      storedDocumentKeys({ id: 'job_3', kind: 'order-export', inputKey: null, input }, ['exports/job_3/part-000001.jsonl', 'exports/job_3/part-000002.jsonl']),
      ['exports/job_3/part-000001.jsonl', 'exports/job_3/part-000002.jsonl', 'exports/job_3/part-000003.jsonl'],
    );
    assert.deepEqual(storedDocumentKeys({ id: 'job_4', kind: 'order-export', inputKey: null, input: { ...input, format: 'csv' } }, []), ['exports/job_4/part-000001.csv']);
  });

  test('when an export\'s input names no format, then only its recorded parts are named', () => {
    assert.deepEqual(storedDocumentKeys({ id: 'job_5', kind: 'order-export', inputKey: null, input: null }, ['exports/job_5/part-000001.csv']), ['exports/job_5/part-000001.csv']);
  });

  test('when an invoice job is asked for its documents, then it has none: its PDF is its invoice\'s', () => {
    assert.deepEqual(storedDocumentKeys({ id: 'job_6', kind: 'invoice', inputKey: null, input: { orderId: 'ord_1' } }, []), []);
  });
});
