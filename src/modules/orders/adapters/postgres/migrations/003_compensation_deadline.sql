-- A cancelling order now awaits its compensations until step_deadline, and the sweeper sends them
-- again when it passes; so the sweeper looks at every order with a deadline, not only those with a
-- step in flight. Terminal orders have none, which keeps the index small.
drop index if exists orders_step_deadline;
create index orders_deadline on orders (step_deadline) where step_deadline is not null;
-- Orders left cancelling without a deadline before this change are due at once: their
-- compensations are sent again (the receiving modules ignore a repeat).
update orders set step_deadline = now() where status = 'CANCELLING' and step_deadline is null;
