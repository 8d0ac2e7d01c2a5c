/* global console */
// The quota race: many uploads at once against a tenant whose quota holds only a few of them. Quota is
// reserved atomically, so the bytes accepted never exceed the quota, whatever the interleaving; every
// other upload gets 403 QUOTA_EXCEEDED (expected here, not an error), and usage afterwards agrees.
//   STOWAGE_URL, STOWAGE_KEY (read and write), QUOTA_BYTES (the tenant's storage quota), FILE_BYTES
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { env, expecting, payload, summary, uploadRaw } from './lib.js';

const quota = Number(env('QUOTA_BYTES'));
const fileBytes = Number(env('FILE_BYTES'));
const acceptedBytes = new Counter('accepted_bytes');
const accepted = new Counter('uploads_accepted');
const refused = new Counter('uploads_refused_quota');

export const options = {
  scenarios: {
    race: { executor: 'per-vu-iterations', vus: 50, iterations: 4, maxDuration: '20s' },
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<2000'],
    accepted_bytes: [`count<=${quota}`],
    // The race must be real: some get through, most are refused.
    uploads_accepted: ['count>0'],
    uploads_refused_quota: ['count>0'],
  },
};

export function setup() {
  return { body: payload(fileBytes) };
}

export default function (data) {
  const res = uploadRaw(env('STOWAGE_KEY'), 'race', data.body, 'race.bin', true, {
    responseCallback: expecting(201, 403),
  });
  if (res.status === 201) {
    accepted.add(1);
    acceptedBytes.add(res.json('file.size'));
  } else {
    refused.add(1);
  }
  check(res, {
    'race: 201, or 403 QUOTA_EXCEEDED': (r) =>
      r.status === 201 || (r.status === 403 && r.json('code') === 'QUOTA_EXCEEDED'),
  });
}

export function teardown() {
  const res = http.get(`${env('STOWAGE_URL')}/usage`, { headers: { 'x-api-key': env('STOWAGE_KEY') } });
  const usage = res.json('data');
  check(usage, {
    'usage: within the quota': (u) => u.usedQuota <= quota && u.totalQuota === quota,
    'usage: the accepted files and nothing else': (u) => u.usedQuota === u.fileCount * fileBytes,
  });
  console.log(`usage after the race: ${JSON.stringify(usage)}`);
}

export function handleSummary(data) {
  return summary('quota-race', data);
}
