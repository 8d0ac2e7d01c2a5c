/** A direct upload not completed in this time is abandoned: the sweeper aborts it and releases its quota. */
export const DIRECT_UPLOAD_LIFETIME_MS = 24 * 3600 * 1000;

/**
 * Longer than any writer keeps a write in flight (the longest, a direct upload, lives
 * DIRECT_UPLOAD_LIFETIME_MS): store uploads older than this are stale whatever they are, and an object
 * this old that no row, reservation or direct upload names is an orphan.
 */
export const LONGEST_UPLOAD_MS = 25 * 3600 * 1000;
