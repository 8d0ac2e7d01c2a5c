const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * A lifetime as a StorageTenant writes it: a whole number of seconds, minutes, hours or days (`90m`,
 * `12h`, `30d`). At most six digits, so that any of them, added to now, is still a date PostgreSQL can
 * store. The CRD's pattern is this one.
 */
export const DURATION = /^([1-9][0-9]{0,5})([smhd])$/;

/** Seconds in a duration such as `30d` (see DURATION); undefined for anything else. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : undefined;
}
