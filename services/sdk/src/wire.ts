// The API's answers as the SDK sees them, all in this one module: from the generated document
// (src/generated/api.ts, written by `make sdk-types`) for every operation and schema it declares, and as
// the README describes them for the routes not declared with a contract yet. Regenerating switches an
// operation to its generated shape by itself; the described shape then goes unused and can be deleted.
import type { components, operations } from './generated/api.ts';

type Schemas = components['schemas'];
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The JSON body an operation answers with when it succeeds. */
type Success<Op> = Op extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]> : never;
type Operation<Id extends string, Described> = Id extends keyof operations
  ? Success<operations[Id]>
  : Described;
type Schema<Id extends string, Described> = Id extends keyof Schemas ? Schemas[Id] : Described;

/** What went wrong, as the API says it (`code` of every error answer). */
export type ApiErrorCode = Schemas['Error']['code'];

/** One field of the request that was invalid, as the API reports it. */
export type FieldProblem = NonNullable<Schemas['Error']['fields']>[number];

/** A file as listed: the seed's fields. */
export type FileInfo = Schemas['File'];

/** Each variant of an image (`large`, `small`, `thumb`) with its URL and status; absent for other files. */
export type Variants = Schema<
  'Variants',
  Record<string, { url: string; status: 'pending' | 'ready' | 'failed' }> | undefined
>;

/** The answer to an upload: the seed's fields, plus the file's id, key and bucket, and its variants. */
export type UploadResult = Schema<
  'UploadedFile',
  {
    success: true;
    message: string;
    url: string;
    file: Pick<FileInfo, 'id' | 'key' | 'bucket' | 'original' | 'mimetype' | 'size' | 'allowPublicAccess'>;
    variants?: Variants;
  }
>;

/** A page of a bucket's files, oldest first. */
export type ListFilesResult = Success<operations['listFiles']>;

/** One file's metadata, with the state of its variants. */
export type FileDetails = Operation<
  'getFile',
  {
    success: true;
    file: FileInfo & { variantStatus: 'none' | 'pending' | 'ready' | 'failed'; variants?: Variants };
  }
>;

export type DeleteFileResult = Operation<'deleteFile', { success: true; message: string; key: string }>;

export type DeleteBucketResult = Operation<
  'deleteBucket',
  { success: true; message: string; bucket: string; filesDeleted: number }
>;

/** The tenant's quota and what is stored, in bytes. */
export type UsageResult = Operation<
  'getUsage',
  {
    success: true;
    data: {
      totalQuota: number;
      usedQuota: number;
      remainingQuota: number;
      percentUsed: number;
      fileCount: number;
    };
  }
>;

export type SignedUrlResult = Operation<'createSignedUrl', { success: true; url: string; expiresAt: string }>;

/** A direct upload just started: what to cut the file into. */
export type DirectUploadCreated = Operation<
  'createDirectUpload',
  {
    success: true;
    uploadId: string;
    bucket: string;
    key: string;
    size: number;
    partSize: number;
    partCount: number;
    expiresAt: string;
  }
>;

export type SignedParts = Operation<
  'signUploadParts',
  { success: true; parts: { partNumber: number; url: string }[] }
>;
