-- Retention removes a finished import's or export's stored documents (its upload, its parts) before
-- it deletes the job's row: `documents_removed_at` says they are gone, and only then may the row go.
-- A crash between the two leaves a row whose documents are gone, which the next pass deletes; never
-- a document that no row names. Invoice jobs are left out: their document is their invoice's.
alter table jobs add column documents_removed_at timestamptz;

-- The finished imports and exports whose documents are still to be removed, those finished first
-- first: rows whose documents are gone are deleted within a pass or two, so this index stays small.
create index jobs_documents_to_remove on jobs (finished_at, id)
  where finished_at is not null and documents_removed_at is null and kind <> 'invoice';
