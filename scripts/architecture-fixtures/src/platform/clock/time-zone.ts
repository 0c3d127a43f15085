import { now } from './clock.ts'; // VIOLATION no-circular: time-zone.ts -> clock.ts -> time-zone.ts

export function utcOffset(): number {
  return now() > 0 ? 0 : 0;
}
