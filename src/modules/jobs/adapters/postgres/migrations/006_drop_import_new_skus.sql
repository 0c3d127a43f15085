-- An import's chunk now commits with its checkpoint and counts (one transaction where the modules
-- share a database; requests idempotent by chunk elsewhere), so no SKUs need recording before a
-- chunk is applied (decision 0029). Rows an import running through this upgrade applied past its
-- last checkpoint are applied again when it resumes, and counted as updated.
drop table import_new_skus;
