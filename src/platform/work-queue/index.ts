export { claimDue, leaseHeld, leasesHeldBy, msFromNow, type Claim, type TokenWorkTable, type WorkTable } from './work-table.ts';
