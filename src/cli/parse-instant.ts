import { isISO8601 } from 'class-validator';

/** A calendar date, a time and a time zone (`Z` or `±hh:mm`), as the admin route takes it. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * The moment an operator typed, or null when it is not ISO 8601 with a date, a time and a time
 * zone, or names no real date (30 February, which `Date` would roll over into March).
 */
export function parseInstant(text: string | undefined): Date | null {
  if (text === undefined || !ISO_INSTANT.test(text) || !isISO8601(text, { strict: true, strictSeparator: true })) return null;
  const moment = new Date(text);
  return Number.isNaN(moment.getTime()) ? null : moment;
}
