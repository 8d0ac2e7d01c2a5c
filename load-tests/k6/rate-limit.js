// Rate limits: one key hammers the list and upload route classes well past its tenant's per-minute
// limits, spread over both API replicas. Exactly the limit gets through (the count is shared in Redis);
// the rest get 429 RATE_LIMIT_EXCEEDED with Retry-After and the X-RateLimit-* headers. A 429 here is
// the expected answer, not an error.
//   STOWAGE_URL, STOWAGE_KEY (read and write), LIST_LIMIT, UPLOAD_LIMIT (the tenant's); DURATION
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { env, expecting, summary, uploadForm } from './lib.js';

const listLimit = Number(env('LIST_LIMIT'));
const uploadLimit = Number(env('UPLOAD_LIMIT'));
const listAllowed = new Counter('list_allowed');
const listLimited = new Counter('list_limited');
const uploadAllowed = new Counter('upload_allowed');
const uploadLimited = new Counter('upload_limited');

export const options = {
  scenarios: {
    list: { executor: 'constant-vus', vus: 10, duration: env('DURATION', '10s'), exec: 'list' },
    upload: { executor: 'constant-vus', vus: 4, duration: env('DURATION', '10s'), exec: 'upload' },
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<300'],
    // The whole run fits in one window, so the limit is exact, across both replicas.
    list_allowed: [`count==${listLimit}`],
    upload_allowed: [`count==${uploadLimit}`],
    list_limited: ['count>0'],
    upload_limited: ['count>0'],
  },
};

function judge(res, limit, allowed, limited, what) {
  const headersOk = (r) =>
    Number(r.headers['X-Ratelimit-Limit']) === limit &&
    r.headers['X-Ratelimit-Remaining'] !== undefined &&
    Number(r.headers['X-Ratelimit-Reset']) >= 1 &&
    Number(r.headers['X-Ratelimit-Reset']) <= 60;
  if (res.status === 429) {
    limited.add(1);
    check(res, {
      [`${what} 429: RATE_LIMIT_EXCEEDED`]: (r) => r.json('code') === 'RATE_LIMIT_EXCEEDED',
      [`${what} 429: X-RateLimit-* headers, none remaining`]: (r) =>
        headersOk(r) && r.headers['X-Ratelimit-Remaining'] === '0',
      [`${what} 429: Retry-After = X-RateLimit-Reset`]: (r) =>
        Number(r.headers['Retry-After']) >= 1 && r.headers['Retry-After'] === r.headers['X-Ratelimit-Reset'],
    });
  } else {
    allowed.add(1);
    check(res, {
      [`${what}: allowed with 2xx`]: (r) => r.status === 200 || r.status === 201,
      [`${what}: X-RateLimit-* headers`]: headersOk,
    });
  }
}

export function list() {
  const res = http.get(`${env('STOWAGE_URL')}/files/any`, {
    headers: { 'x-api-key': env('STOWAGE_KEY') },
    responseCallback: expecting(200, 429),
    tags: { name: 'GET /files/:bucket' },
  });
  judge(res, listLimit, listAllowed, listLimited, 'list');
}

export function upload() {
  const res = uploadForm(env('STOWAGE_KEY'), 'any', 'hello', 'hello.txt', {
    responseCallback: expecting(201, 429),
  });
  judge(res, uploadLimit, uploadAllowed, uploadLimited, 'upload');
}

export function handleSummary(data) {
  return summary('rate-limit', data);
}
