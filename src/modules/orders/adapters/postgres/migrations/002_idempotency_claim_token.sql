-- Each claim of an Idempotency-Key gets its own token: only the request holding the current token
-- may complete or release the key, so a request whose claim was taken over can no longer place an
-- order. Nullable, so adding it does not rewrite the table; a claim made before it has no token and
-- is taken over after the takeover time like any abandoned claim.
alter table idempotency_keys add column claim_token text;
