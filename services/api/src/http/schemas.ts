import { z } from 'zod';
import { BUCKET_NAME, EXTENSION_PATTERN, UUID_PATTERN, errorStatus, scopes } from '@stowage/core';

/** Stored file names: `<uuid>.<ext>`. */
const FILE_KEY = new RegExp(`^(${UUID_PATTERN})\\.(${EXTENSION_PATTERN})$`);

/** A logical bucket name, in a path or a body. */
export const bucketName = z
  .string()
  .regex(BUCKET_NAME, 'use 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit')
  .meta({ description: 'A logical bucket of the tenant', example: 'avatars' });

/** A stored file's key: `<uuid>.<ext>`. */
export const fileKey = z
  .string()
  .regex(FILE_KEY, 'a stored file key looks like <uuid>.<ext>')
  .meta({ description: 'The stored file name, `<uuid>.<ext>`' });

/** A boolean in a query string or a form field: true/false or 1/0. */
export const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/** The error body every failure answers with. */
export const errorBody = z
  .object({
    success: z.literal(false),
    code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...(keyof typeof errorStatus)[]]),
    message: z.string(),
    requestId: z.string(),
    suggestion: z.string().optional(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.input<typeof errorBody>;

const variantView = z.object({
  url: z.url(),
  status: z.enum(['pending', 'ready', 'failed']),
});

/** Each variant of an image, by name; absent for files that get none. */
export const variantsView = z.record(z.string(), variantView).optional().meta({ id: 'Variants' });

/** A tag of a file: what `tags` holds and `tag=` lists by. */
export const fileTag = z
  .string()
  .regex(/^[a-z0-9._:-]{1,64}$/, 'a tag is 1-64 characters of a-z, 0-9, ".", "_", ":" and "-"')
  .meta({ example: 'invoice' });

const fileMode = z.enum(['live', 'test']).meta({
  description:
    'The mode of the key that uploaded it: `test` files are seen only by test keys (and served by URL like any ' +
    'file), count against quota.testStorage and are deleted TEST_FILE_TTL (a day by default) after upload',
});

const fileExpiresAt = z.iso
  .datetime()
  .nullable()
  .meta({
    description:
      "When the file is deleted: the soonest of the upload's expiresIn, its bucket's expireAfter and, for a test " +
      'file, TEST_FILE_TTL; null: kept until deleted',
  });

/** A file as listed: the seed's fields, plus tags, metadata, when it last changed, its mode and expiry. */
export const fileView = z
  .object({
    id: z.uuid(),
    original: z.string(),
    key: z.string(),
    mimetype: z.string(),
    size: z.number().int().nonnegative(),
    bucket: z.string(),
    allowPublicAccess: z.boolean(),
    createdAt: z.iso.datetime(),
    url: z.url(),
    tags: z.array(z.string()).meta({ description: 'A set, sorted' }),
    metadata: z.record(z.string(), z.string()),
    updatedAt: z.iso.datetime().meta({ description: 'When the file was uploaded or last changed by PATCH' }),
    mode: fileMode,
    expiresAt: fileExpiresAt,
  })
  .meta({ id: 'File' });

/** One file with its variants' status, as GET and PATCH /files/:bucket/:key answer it. */
export const oneFile = z.object({
  success: z.literal(true),
  file: fileView
    .extend({
      variantStatus: z
        .enum(['none', 'pending', 'ready', 'failed'])
        .meta({ description: 'Of the variants as a whole; `none` for files that get none' }),
      variants: variantsView,
    })
    .meta({ id: 'FileDetail' }),
});

/** The answer to a successful upload: the seed's fields, plus id, key, bucket and variants. */
export const uploadedFile = z
  .object({
    success: z.literal(true),
    message: z.string(),
    url: z.url(),
    file: z.object({
      id: z.uuid(),
      key: z.string(),
      bucket: z.string(),
      original: z.string(),
      mimetype: z.string(),
      size: z.number().int().nonnegative(),
      allowPublicAccess: z.boolean(),
      mode: fileMode,
      expiresAt: fileExpiresAt,
    }),
    variants: variantsView,
  })
  .meta({ id: 'UploadedFile' });

/** A direct upload's id, as POST /uploads/:bucket answered it. */
export const uploadId = z
  .string()
  .regex(new RegExp(`^${UUID_PATTERN}$`), 'an upload id is a lowercase UUID')
  .meta({ description: 'The `uploadId` that POST /uploads/{bucket} answered with' });

/** An API key as listed: never its secret, nor its hash. */
export const apiKeyView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z
      .string()
      .meta({ description: 'The start of the key, e.g. `stw_live_ab12`, to recognise it by' }),
    scopes: z.array(z.enum(scopes)),
    mode: z.enum(['live', 'test']),
    source: z.enum(['resource', 'api']).meta({
      description:
        '`resource`: declared in the StorageTenant, which owns it (the API cannot revoke it); `api`: minted with POST /keys',
    }),
    allowedOrigins: z
      .array(z.string())
      .nullable()
      .meta({ description: "The key's own allowed origins; null: the tenant's apply" }),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'To the minute (the start of the minute it was last used in); null: never used' }),
    expiresAt: z.iso
      .datetime()
      .nullable()
      .meta({
        description:
          'When the key stops working: its expiry, or the end of the grace period of a declared key replaced ' +
          'by rotation; null: not planned. Expired keys stay listed until revoked.',
      }),
  })
  .meta({ id: 'ApiKey' });

const MAX_EXPIRES_IN = 999_999_999;
const expiresInProblem = `must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`;
const expiresInDescription =
  "Seconds until the file is deleted (at most 999999999); its bucket's expireAfter and, for a test key, " +
  'TEST_FILE_TTL still apply if sooner';

/** The lifetime an upload asks for its file, in seconds, in a JSON body. */
export const expiresIn = z
  .number({ error: expiresInProblem })
  .int(expiresInProblem)
  .min(1, expiresInProblem)
  .max(MAX_EXPIRES_IN, expiresInProblem)
  .meta({ description: expiresInDescription });

/** The same as text: a form field or a query parameter. */
export const expiresInText = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, expiresInProblem)
  .transform(Number)
  .meta({ description: expiresInDescription });

/** A webhook delivery: one event for one webhook, with its attempts. */
export const webhookDeliveryView = z
  .object({
    id: z.uuid().meta({ description: 'The `webhook-id` header of every attempt' }),
    webhook: z.string().meta({ description: 'The name of the webhook in the StorageTenant' }),
    url: z.string(),
    type: z.string().meta({ description: 'The event type, e.g. `file.uploaded`' }),
    mode: z.enum(['live', 'test']),
    status: z.enum(['pending', 'delivered', 'failed']).meta({
      description: '`pending`: to be tried (again); `delivered`: answered 2xx; `failed`: out of attempts',
    }),
    payload: z
      .object({ type: z.string(), timestamp: z.iso.datetime(), data: z.record(z.string(), z.unknown()) })
      .meta({ description: 'The body that is POSTed' }),
    createdAt: z.iso.datetime(),
    nextAttemptAt: z.iso.datetime().nullable().meta({ description: 'While pending: when it is tried next' }),
    attempts: z.array(
      z.object({
        attempt: z.int().min(1),
        startedAt: z.iso.datetime(),
        durationMs: z.int().min(0),
        statusCode: z.int().nullable().meta({ description: "The receiver's status; null: no answer" }),
        error: z.string().nullable().meta({ description: 'Why the attempt failed; null: delivered' }),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery' });

/** How many items a page of a listing holds: 1 to `max`, `fallback` when left out. */
export function pageLimit(things: string, max: number, fallback: number) {
  const problem = `must be a whole number from 1 to ${max}`;
  return z.coerce
    .number({ error: problem })
    .int(problem)
    .min(1, problem)
    .max(max, problem)
    .default(fallback)
    .meta({ description: `${things} per page (default ${fallback})` });
}
