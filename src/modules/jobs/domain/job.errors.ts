/** No job has this id. */
export class JobNotFoundError extends Error {
  readonly jobId: string;
  constructor(jobId: string) {
    super(`Job ${jobId} does not exist`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

/** The job already ended (succeeded, failed or cancelled); there is nothing left to cancel. */
export class JobNotCancellableError extends Error {
  constructor(jobId: string, status: string) {
    super(`Job ${jobId} is ${status} and can no longer be cancelled`);
    this.name = 'JobNotCancellableError';
  }
}

/** The uploaded file cannot be imported at all (empty, or not the expected columns). */
export class InvalidImportFileError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidImportFileError';
  }
}

/** A document is larger than its limit; nothing of it was kept. */
export class DocumentTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`The document is larger than the limit of ${maxBytes} bytes`);
    this.name = 'DocumentTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** No invoice exists for this order yet (or the caller may not see it). */
export class InvoiceNotFoundError extends Error {
  constructor(orderId: string) {
    super(`No invoice exists for order ${orderId}`);
    this.name = 'InvoiceNotFoundError';
  }
}

/** Jobs cannot be queued right now (the queue is not started); the caller may try again shortly. */
export class JobQueueUnavailableError extends Error {
  constructor() {
    super('The job queue is not running yet; try again shortly');
    this.name = 'JobQueueUnavailableError';
  }
}

/** The export's file is asked for before the export succeeded. */
export class ExportNotReadyError extends Error {
  constructor(jobId: string, status: string) {
    super(`Export ${jobId} is ${status}; its file can be downloaded once it has succeeded.`);
    this.name = 'ExportNotReadyError';
  }
}
