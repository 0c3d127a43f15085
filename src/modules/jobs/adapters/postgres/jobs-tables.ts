import type { ColumnType } from 'kysely';

/** The `jobs` schema's tables as stored. */

export interface JobsTable {
  id: string;
  kind: string;
  status: string;
  subject: string | null;
  input_key: string | null;
  input: Record<string, unknown> | null;
  result_key: string | null;
  request_id: string | null;
  boss_job_id: string | null;
  progress_done: number;
  progress_total: number | null;
  checkpoint: number;
  created_count: number;
  updated_count: number;
  rejected_count: number;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** When retention removed the job's stored documents (migration 008); its row may be deleted only after. */
  documents_removed_at: Date | null;
}

export interface RowErrorsTable {
  job_id: string;
  line: number;
  reason: string;
  /** `[{ column, reason }]`, written as JSON text; null for rows rejected before faults were stored one by one. */
  faults: ColumnType<StoredRowFault[] | null, string, never>;
}

export interface StoredRowFault {
  column: string | null;
  reason: string;
}

export interface InvoicesTable {
  order_id: string;
  customer_id: string;
  /** The job that drew it, for invoices drawn before they were drawn on download. */
  job_id: string | null;
  /** What the invoice states (`InvoiceFacts`); null for invoices drawn before they were drawn on download. */
  facts: Record<string, unknown> | null;
  /** Null until first downloaded. */
  document_key: string | null;
  created_at: Date;
}

/** One part of an export's file, in order; its document holds the part's records. */
export interface ExportPartsTable {
  job_id: string;
  part: number;
  document_key: string;
  orders: number;
  bytes: ColumnType<string, number, never>;
  next_placed_at: string | null;
  next_order_id: string | null;
}

// A type alias, not an interface: kysely needs the index signature an alias has.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type JobsTables = {
  'jobs.jobs': JobsTable;
  'jobs.row_errors': RowErrorsTable;
  'jobs.invoices': InvoicesTable;
  'jobs.export_parts': ExportPartsTable;
};
