// Public serving: anonymous GETs of public files, and the cache-hit path (If-None-Match → 304).
//   STOWAGE_URL, STOWAGE_KEY (write scope, to upload the files served), STOWAGE_TENANT; RATE (per second
//   for each path, default 60); DURATION
import http from 'k6/http';
import { check } from 'k6';
import { env, fileUrl, payload, steady, storedKey, summary, uploadRaw } from './lib.js';

export const options = {
  scenarios: {
    full: { ...steady(Number(env('RATE', '60'))), exec: 'full' },
    revalidate: { ...steady(Number(env('RATE', '60'))), exec: 'revalidate' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    dropped_iterations: ['count<50'],
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:full}': ['p(95)<500'],
    'http_req_duration{scenario:revalidate}': ['p(95)<300'],
  },
};

export function setup() {
  const urls = [];
  for (let i = 0; i < 20; i++) {
    const key = storedKey(uploadRaw(env('STOWAGE_KEY'), 'public', payload(8 * 1024), `f${i}.txt`));
    if (!key) throw new Error('setup: an upload failed');
    urls.push(fileUrl(env('STOWAGE_TENANT'), 'public', key));
  }
  const etags = urls.map((url) => http.get(url).headers['Etag']);
  return { urls, etags };
}

const pick = (n) => Math.floor(Math.random() * n);

export function full(data) {
  const res = http.get(data.urls[pick(data.urls.length)], { tags: { name: 'GET public file' } });
  check(res, {
    'public: 200': (r) => r.status === 200,
    'public: 8 KiB body': (r) => r.body.length === 8 * 1024,
    'public: ETag and Cache-Control': (r) => Boolean(r.headers['Etag'] && r.headers['Cache-Control']),
  });
}

export function revalidate(data) {
  const i = pick(data.urls.length);
  const res = http.get(data.urls[i], {
    headers: { 'If-None-Match': data.etags[i] },
    tags: { name: 'GET public file (If-None-Match)' },
    responseCallback: http.expectedStatuses(304),
  });
  check(res, {
    'cache hit: 304': (r) => r.status === 304,
    'cache hit: no body': (r) => !r.body,
  });
}

export function handleSummary(data) {
  return summary('serve-public', data);
}
