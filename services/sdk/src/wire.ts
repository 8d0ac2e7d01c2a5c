// The API's answers as the SDK sees them, all in this one module, from the generated document
// (src/generated/api.ts, written by `make sdk-types` from the API's route contracts).
import type { components, operations } from './generated/api.ts';

type Schemas = components['schemas'];
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The JSON body an operation answers with when it succeeds. */
type Success<Id extends keyof operations> = operations[Id] extends { responses: infer R }
  ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]>
  : never;
/** The JSON body an operation takes. */
type Body<Id extends keyof operations> = operations[Id] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;
/** The query parameters an operation takes. */
type Query<Id extends keyof operations> = NonNullable<operations[Id]['parameters']['query']>;

/** What went wrong, as the API says it (`code` of every error answer). */
export type ApiErrorCode = Schemas['Error']['code'];

/** One field of the request that was invalid, as the API reports it. */
export type FieldProblem = NonNullable<Schemas['Error']['fields']>[number];

/** A file as listed: the seed's fields. */
export type FileInfo = Schemas['File'];

/** Each variant of an image (`large`, `small`, `thumb`) with its URL and status; absent for other files. */
export type Variants = Schemas['Variants'];

/** The answer to an upload: the seed's fields, plus the file's id, key and bucket, and its variants. */
export type UploadResult = Schemas['UploadedFile'];

/** A page of a bucket's files, oldest first. */
export type ListFilesResult = Success<'listFiles'>;

/** One file's metadata, with the state of its variants. */
export type FileDetails = Success<'getFile'>;

export type DeleteFileResult = Success<'deleteFile'>;

export type DeleteBucketResult = Success<'deleteBucket'>;

/** The tenant's quota and what is stored, in bytes. */
export type UsageResult = Success<'getUsage'>;

export type SignedUrlResult = Success<'createSignedUrl'>;

/** A direct upload just started: what to cut the file into. */
export type DirectUploadCreated = Success<'createDirectUpload'>;

export type SignedParts = Success<'signUploadParts'>;

/** The file as it is after a change (`updateFile`). */
export type UpdateFileResult = Success<'updateFile'>;

/** What `updateFile` changes: only the fields given; `tags` and `metadata` replace the whole set. */
export type FileChanges = Body<'updateFile'>;

/** Which files a listing shows, in which order, and which page of them. */
export type ListFilesQuery = Query<'listFiles'>;

/** The answer of a delete of many files: what is gone, and what failed and why. */
export type DeleteFilesResult = Success<'deleteFiles'>;

/** An API key as listed, without its secret. */
export type ApiKeyInfo = Schemas['ApiKey'];

export type ListKeysResult = Success<'listKeys'>;

/** What a new key is: its name, scopes and mode, and optionally its origins and expiry. */
export type NewKey = Body<'createKey'>;

/** A new key, with its secret (`apiKey`), shown this once. */
export type CreateKeyResult = Success<'createKey'>;

export type RevokeKeyResult = Success<'revokeKey'>;

/** The calling key's tenant: its quota, rate limits, origins and declared buckets. */
export type TenantResult = Success<'getTenant'>;

/** One entry of the audit log: who did what, answered how; of the key, only its prefix. */
export type AuditEntry = Schemas['AuditEntry'];

/** A page of the tenant's audit log, newest first. */
export type ListAuditResult = Success<'listAudit'>;

/** Which entries a page of the audit log shows (`since`, `action`) and which page of them. */
export type ListAuditQuery = Query<'listAudit'>;
/** One event for one webhook, with every attempt at delivering it. */
export type WebhookDelivery = Schemas['WebhookDelivery'];

/** Which deliveries a listing shows (`status`) and which page of them (`cursor`, `limit`). */
export type ListWebhookDeliveriesQuery = Query<'listWebhookDeliveries'>;

/** A page of webhook deliveries, newest first. */
export type ListWebhookDeliveriesResult = Success<'listWebhookDeliveries'>;

/** A delivery queued to be sent once more. */
export type RetryWebhookDeliveryResult = Success<'retryWebhookDelivery'>;
