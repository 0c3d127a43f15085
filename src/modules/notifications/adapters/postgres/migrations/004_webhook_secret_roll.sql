-- A rolled signing secret: the one it replaced keeps signing beside it until the overlap ends, so
-- receivers can switch without refusing a delivery. At most one previous secret per endpoint.
alter table webhook_endpoints
  add column previous_secret text,
  add column previous_secret_expires_at timestamptz,
  add constraint webhook_endpoints_previous_secret_whole check ((previous_secret is null) = (previous_secret_expires_at is null));
