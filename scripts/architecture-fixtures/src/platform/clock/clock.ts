import { utcOffset } from './time-zone.ts'; // VIOLATION no-circular: clock.ts -> time-zone.ts -> clock.ts

export function now(): number {
  return Date.now() + utcOffset();
}
