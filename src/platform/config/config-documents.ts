import { z } from 'zod';

/** Stored documents (imports, invoices, error reports), the background jobs that make them, and invoice PDFs. */
export const documentVariables = {
  DOCUMENTS_STORE: z.enum(['filesystem', 's3']).default('filesystem')
    .describe('Where uploaded imports, invoices and error reports are kept: a folder (DOCUMENTS_DIR) or an S3 bucket (S3_*; credentials from the standard AWS variables).'),
  DOCUMENTS_DIR: z.string().min(1).default('.data/documents')
    .describe('Folder of the filesystem documents store.'),
  S3_BUCKET: z.string().min(3).max(63).optional()
    .describe('Bucket of the S3 documents store (required when DOCUMENTS_STORE=s3).'),
  S3_PREFIX: z.string().default('')
    .describe('Folder inside the bucket under which documents are kept.'),
  S3_REGION: z.string().min(1).default('us-east-1')
    .describe('Region of the S3 bucket.'),
  S3_ENDPOINT: z.url().optional()
    .describe('An S3-compatible server instead of AWS (MinIO, R2, ...).'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('Address objects as https://host/bucket/key; most S3-compatible servers need it.'),
  IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024 * 1024).default(50 * 1024 * 1024)
    .describe('Largest CSV accepted by POST /v1/imports (the gateway streams the upload through, never holding it whole).'),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2)
    .describe('Jobs of each kind (imports, exports) run at once in this process.'),
  EXPORT_PART_SIZE: z.coerce.number().int().min(100).max(10_000).default(5000)
    .describe('Orders per part of an order export: read in one page, stored as one document and recorded with the job\'s progress; a resumed export starts after the last part recorded.'),
  JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(3)
    .describe('Attempts of a job before it is dead-lettered and marked failed.'),
  JOB_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(5)
    .describe('First retry delay of a failed job; grows exponentially.'),
  JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900)
    .describe('Longest one attempt of a job may run.'),
  JOB_EVENTS_POLL_MS: z.coerce.number().int().min(50).max(10_000).default(500)
    .describe('How often a job event stream (GET /v1/jobs/{id}/events) reads its job again; an event is sent only when the job changed.'),
  JOB_EVENTS_MAX_STREAMS: z.coerce.number().int().min(1).max(10_000).default(100)
    .describe('Job event streams open at once in this process; one more is refused with 503 and Retry-After.'),
  INVOICE_SELLER: z.string().min(1).max(200).default('OrderStream')
    .describe('Seller name printed on invoices; an invoice names the seller of the day its order was confirmed.'),
  PDF_RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1)
    .describe('Invoice PDFs drawn at once in this process (each keeps a core busy while it draws). An invoice is drawn on its first download; up to 64 more first downloads wait their turn, for at most PDF_RENDER_MAX_WAIT_MS.'),
  PDF_RENDER_MAX_WAIT_MS: z.coerce.number().int().min(10).max(60_000).default(5000)
    .describe('Longest a first download of an invoice waits for a turn to draw it before it is refused with 503 and Retry-After.'),
};
