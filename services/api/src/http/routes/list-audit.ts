import { z } from 'zod';
import type { AuditRecord } from '@stowage/core';
import { listAuditLog } from '../../audit/list-audit-log.ts';
import type { ApiDeps } from '../../deps.ts';
import { defineRoute } from '../route.ts';
import { pageLimit } from '../schemas.ts';

const query = z.object({
  since: z.iso
    .datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2025-01-31T12:00:00Z' })
    .transform((time) => new Date(time))
    .optional()
    .meta({ description: 'Only entries at or after this time' }),
  action: z
    .string()
    .regex(/^[A-Za-z]{1,64}$/, "an operation's id, e.g. uploadFile")
    .optional()
    .meta({
      description: 'Only entries of this action: the operationId of the route called, e.g. `deleteFile`',
    }),
  limit: pageLimit('Entries', 1000, 100),
  cursor: z
    .string()
    .max(512)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page, with the same filters' }),
});

const entry = z
  .object({
    id: z.uuid(),
    at: z.iso.datetime(),
    action: z.string().meta({ description: 'The operationId of the route called, e.g. `uploadFile`' }),
    status: z.number().int().meta({
      description: 'The HTTP status answered (499: the client went away before the answer)',
    }),
    mode: z.enum(['live', 'test']),
    keyPrefix: z
      .string()
      .nullable()
      .meta({ description: 'The start of the key used, e.g. `stw_live_ab12`; never the key itself' }),
    bucket: z.string().nullable(),
    key: z.string().nullable().meta({ description: 'The file key the request named, if one' }),
    requestId: z.string(),
    clientAddress: z.string().nullable(),
    userAgent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable().meta({
      description: "What the change did, by action: e.g. an upload's size and type, the keys deleted",
    }),
  })
  .meta({ id: 'AuditEntry' });

const page = z.object({
  success: z.literal(true),
  entries: z.array(entry),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

const entryView = (record: AuditRecord): z.input<typeof entry> => ({
  id: record.id,
  at: record.at.toISOString(),
  action: record.action,
  status: record.status,
  // The log is read by mode, so every entry listed has one.
  mode: record.mode ?? 'live',
  keyPrefix: record.keyPrefix,
  bucket: record.bucket,
  key: record.key,
  requestId: record.requestId,
  clientAddress: record.clientAddress,
  userAgent: record.userAgent,
  details: record.details,
});

/** GET /audit — a page of the tenant's audit log, newest first. */
export function listAudit(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'listAudit',
    method: 'get',
    path: '/audit',
    tag: 'Audit',
    summary: "A page of the tenant's audit log, newest first",
    description:
      'Every mutating request and every request refused with 401, 403 or 429 at authentication, with ' +
      "the key's prefix (never the key), the client's address and user agent. Only entries of the " +
      "calling key's mode: a test key reads what test keys did, a live key what live keys did. Requests " +
      'with an unknown key belong to no tenant and are not listed. Entries are kept AUDIT_RETENTION_DAYS ' +
      '(default 90).',
    access: { scope: 'admin', limit: 'list' },
    query,
    responses: { 200: { description: 'A page of entries', schema: page } },
  }).handle(async ({ query, caller }) => {
    const found = await listAuditLog(deps, caller, query);
    return {
      status: 200,
      body: {
        success: true,
        entries: found.entries.map(entryView),
        nextCursor: found.nextCursor,
        hasMore: found.nextCursor !== null,
      },
    };
  });
}
