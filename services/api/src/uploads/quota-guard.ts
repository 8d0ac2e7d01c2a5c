import type pg from 'pg';
import {
  AppError,
  extendReservation,
  releaseReservation,
  renewReservation,
  reserveQuota,
  settleReservationIn,
  type Settling,
  type Statement,
  type ApiMetrics,
  type KeyMode,
  type Reservation,
} from '@stowage/core';

/** Quota is reserved ahead of the bytes in steps of this size, so a large upload costs few queries. */
const STEP = 8 * 1024 * 1024;

/**
 * Holds the quota reservation of one write in progress: grows it ahead of the bytes counted on the stream
 * (a step at a time, or exactly what is needed when the quota is nearly full), renews it while the write
 * runs, and either settles it into used bytes or releases it. Content-Length is never consulted.
 */
export class QuotaGuard {
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly reservation: Reservation,
    private readonly metrics: ApiMetrics,
    private readonly ttlMs: number,
  ) {
    this.heartbeat = setInterval(() => {
      renewReservation(pool, reservation.id, ttlMs).catch(() => {
        // A missed renewal only shortens the reservation's life; settle reports if it was swept.
      });
    }, ttlMs / 3);
    this.heartbeat.unref();
    metrics.reservationsInFlight.inc();
  }

  /**
   * Reserves `expectedBytes` up front, alive for `ttlMs` (config.reservationTtlMs) between renewals, (0 if unknown), and up to `upToBytes` if the quota has room (a
   * form's length bounds its file's from above: reserving that much saves growing the reservation, one
   * more query, at the end). Uploads racing for the last of a quota would otherwise each hold a part of
   * it and all fail; reserving what the request declares makes the ones that fit succeed and the rest
   * fail at once. The bytes are still counted: a smaller body settles for less, a larger one must grow
   * the reservation.
   */
  static async open(
    pool: pg.Pool,
    metrics: ApiMetrics,
    input: {
      tenantId: string;
      mode: KeyMode;
      objectKey: string;
      expectedBytes: number;
      upToBytes: number;
      ttlMs: number;
    },
  ): Promise<QuotaGuard> {
    const reservation = await reserveQuota(pool, {
      tenantId: input.tenantId,
      mode: input.mode,
      bytes: Math.max(input.expectedBytes, input.upToBytes),
      minBytes: input.expectedBytes,
      objectKey: input.objectKey,
      ttlMs: input.ttlMs,
    }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'QUOTA_EXCEEDED') metrics.quotaRejections.inc();
      throw err;
    });
    return new QuotaGuard(pool, reservation, metrics, input.ttlMs);
  }

  /**
   * Takes over a reservation made earlier and given a writer's lifetime of `ttlMs` (a claimed direct
   * upload's): renews it while held, settles or releases it like one of its own.
   */
  static adopt(pool: pg.Pool, metrics: ApiMetrics, reservation: Reservation, ttlMs: number): QuotaGuard {
    return new QuotaGuard(pool, reservation, metrics, ttlMs);
  }

  /** Whether `total` bytes are already covered (so the caller can skip an await). */
  covers(total: number): boolean {
    return total <= this.reservation.bytes;
  }

  /** Makes the reservation cover `total` bytes, or throws QUOTA_EXCEEDED. */
  async cover(total: number): Promise<void> {
    const missing = total - this.reservation.bytes;
    if (missing <= 0) return;
    try {
      await extendReservation(this.pool, this.reservation, Math.max(missing, STEP), this.ttlMs);
    } catch (err) {
      if (!(err instanceof AppError) || missing >= STEP) throw this.rejected(err);
      await extendReservation(this.pool, this.reservation, missing, this.ttlMs).catch((e: unknown) => {
        throw this.rejected(e);
      });
    }
  }

  private rejected(err: unknown): unknown {
    if (err instanceof AppError && err.code === 'QUOTA_EXCEEDED') this.metrics.quotaRejections.inc();
    return err;
  }

  /**
   * Adds to `statement` the settling into `size` used bytes and one more file, and stops renewing: the
   * statement either settles the reservation or finds it gone (release it if the statement fails).
   */
  settleIn(statement: Statement, size: number): Settling {
    this.close();
    return settleReservationIn(statement, this.reservation, size, 1);
  }

  /** Gives the reserved bytes back. Safe to call after settle, and more than once. */
  async release(): Promise<void> {
    this.close();
    await releaseReservation(this.pool, this.reservation.id);
  }

  /**
   * Stops renewing without releasing, for a writer that could not clean up what it wrote: once the
   * reservation expires, the sweeper releases it and removes its object.
   */
  abandon(): void {
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.metrics.reservationsInFlight.dec();
  }
}
