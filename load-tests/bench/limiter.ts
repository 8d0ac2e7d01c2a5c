import { Redis } from 'ioredis';
import { createApiMetrics } from '@stowage/core';
// The API's own limiter, measured in process: what it adds is the time each request waits for it.
import { RateLimits } from '../../services/api/src/limits/rate-limits.ts';

export interface LimiterLatency {
  medianMs: number;
  p99Ms: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** The time one rate-limit check takes, over `count` checks one after another (as requests make them). */
export async function limiterLatency(redisUrl: string | undefined, count = 5000): Promise<LimiterLatency> {
  const redis = redisUrl
    ? new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    : undefined;
  if (redis) await new Promise((resolve) => redis.once('ready', resolve));
  try {
    const limits = new RateLimits(redis, createApiMetrics());
    const key = `bench-${Date.now()}`;
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await limits.consume('list', key, 1_000_000_000);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { medianMs: percentile(times, 0.5), p99Ms: percentile(times, 0.99) };
  } finally {
    redis?.disconnect();
  }
}
