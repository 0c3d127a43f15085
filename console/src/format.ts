/** Times and money as the viewer reads them: their own time zone and locale. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** An RFC 3339 instant in the viewer's time zone; a dash when there is none. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** Money in minor units (`{ amount: 1999, currency: 'EUR' }`), with the currency's own number of decimals. */
export function formatMoney(money: { amount: number; currency: string }): string {
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(money.amount / 10 ** digits);
  } catch {
    return `${money.amount} ${money.currency} (minor units)`;
  }
}

/** A whole number in the viewer's locale. */
export function formatCount(value: number): string {
  return new Intl.NumberFormat().format(value);
}

/** A span of time between two instants, short: "350 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '—';
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  const seconds = milliseconds / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A time of day in the viewer's zone, for "updated at" lines. */
export function formatClock(date: Date): string {
  return date.toLocaleTimeString();
}
