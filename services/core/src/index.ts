export { ConfigError, loadInfraConfig, type InfraConfig, type S3Config } from './config.ts';
export { createS3Client } from './object-store/s3-client.ts';
