import { z } from 'zod';
import { scopes } from '../keys/api-key.ts';
import { WEBHOOK_EVENTS } from '../webhooks/webhook-events.ts';
import { DURATION, parseDuration } from './duration.ts';
import { parseByteQuantity } from './quantity.ts';

/** DNS-label-like ids: they appear in URLs and in S3 bucket names (`stowage-<tenantId>`). */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,53}[a-z0-9])?$/;
/** Logical bucket names: they appear in URLs and as key prefixes. */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** API key names, declared or minted: DNS-label-like, as a declared key's Secret is named after it. */
export const KEY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * An origin a tenant or key allows: `scheme://host[:port]`, as browsers send it (hosts in punycode, so
 * printable ASCII but "/"; no control character ever reaches the database).
 */
export const ORIGIN = /^https?:\/\/[!-.0-~]+$/;

const byteQuantity = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseByteQuantity(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a byte quantity: ${value}` });
    return z.NEVER;
  }
  return bytes;
});

/** A lifetime such as `30d`, in seconds. */
const duration = z
  .string()
  .regex(DURATION, 'a whole number of s, m, h or d, e.g. 30d or 12h')
  .transform((value) => parseDuration(value)!);

const origin = z.string().regex(ORIGIN, 'an origin is scheme://host[:port] with no path');
const perMinute = z.number().int().min(1).max(1_000_000);

/**
 * First path segments the API uses for itself (or will: webhooks, audit, spaces, public, s and tus are in
 * the contract), so no tenant can have them as its id. The CRD's CEL rule lists the same.
 */
export const RESERVED_TENANT_IDS = [
  'files',
  'upload',
  'uploads',
  'usage',
  'healthz',
  'readyz',
  'metrics',
  'keys',
  'tenant',
  'webhooks',
  'audit',
  'spaces',
  'public',
  's',
  'tus',
];

export const tenantId = z
  .string()
  .regex(TENANT_ID, 'lowercase letters, digits and dashes, at most 55')
  .refine((id) => !RESERVED_TENANT_IDS.includes(id), 'this tenant id is reserved by the API');

export const storageTenantSpec = z.object({
  tenantId: tenantId.optional(),
  displayName: z.string().max(256).default(''),
  quota: z
    .object({
      storage: byteQuantity.default(10 * 2 ** 30),
      maxFileSize: byteQuantity.default(10 * 2 ** 30),
      /** What files uploaded with test keys may store, apart from `storage`. */
      testStorage: byteQuantity.default(2 ** 30),
    })
    .prefault({}),
  rateLimits: z
    .object({
      upload: perMinute.default(120),
      list: perMinute.default(120),
      delete: perMinute.default(50),
      usage: perMinute.default(100),
    })
    .prefault({}),
  allowedOrigins: z.array(origin).default([]),
  buckets: z
    .array(
      z.object({
        name: z.string().regex(BUCKET_NAME),
        public: z.boolean().default(true),
        allowedTypes: z.array(z.string().regex(/^[a-z]+\/(\*|[a-z0-9.+-]+)$/)).default([]),
        /** Files uploaded into the bucket are deleted this long after upload; undefined: kept. */
        expireAfter: duration.optional(),
      }),
    )
    .default([]),
  apiKeys: z
    .array(
      z.object({
        name: z.string().regex(KEY_NAME),
        scopes: z.array(z.enum(scopes)).min(1).default(['read', 'write']),
        mode: z.enum(['live', 'test']).default('live'),
        rotation: z.number().int().min(0).default(0),
        allowedOrigins: z.array(origin).optional(),
      }),
    )
    .default([]),
  deletionPolicy: z.enum(['Retain', 'Delete']).default('Retain'),
  /** Where events are sent, signed with the secret in the `<resource>-webhooks` Secret. */
  webhooks: z
    .array(
      z.object({
        name: z.string().regex(KEY_NAME),
        url: z.url({ protocol: /^https?$/ }).max(2048),
        events: z
          .array(z.enum([...WEBHOOK_EVENTS, '*']))
          .min(1)
          .default(['*']),
      }),
    )
    .max(20)
    .default([])
    .refine(
      (hooks) => new Set(hooks.map((h) => h.name)).size === hooks.length,
      'webhook names must be unique',
    ),
});

/** A StorageTenant's spec with every default applied and quantities in bytes. */
export type StorageTenantSpec = z.infer<typeof storageTenantSpec>;
export type RateLimits = StorageTenantSpec['rateLimits'];
export type ApiKeySpec = StorageTenantSpec['apiKeys'][number];

/** The tenant id a resource gets when its spec names none. */
export function defaultTenantId(namespace: string, name: string): string {
  return `${namespace}-${name}`;
}
