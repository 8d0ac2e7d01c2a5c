import { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config.ts';

/** An S3 client for AWS or any S3-compatible store (MinIO, Ceph RGW, SeaweedFS). */
export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    // Checksums only where S3 requires them (DeleteObjects), as before SDK 3.729: not every S3-compatible
    // store takes the trailing CRC32 of aws-chunked uploads, downloads are not re-checked in JavaScript
    // on their way through, and TCP/TLS already guard the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}
