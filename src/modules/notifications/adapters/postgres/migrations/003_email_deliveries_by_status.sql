-- The admin lists email deliveries by status too (dead ones above all), oldest first.
create index deliveries_emails_by_status on deliveries (status, created_at, id) where channel = 'email';
