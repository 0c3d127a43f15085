-- Every fault of a rejected row, each with its column: `[{ "column": "price" | null, "reason": "…" }]`.
-- `reason` stays: all the faults in one sentence. Rows stored before this column existed keep it null
-- and are read as their one fault, without a column; filling it in would only copy their reason.
alter table row_errors add column faults jsonb;
