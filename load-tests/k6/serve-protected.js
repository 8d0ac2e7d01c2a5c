// Protected serving and listing: GETs of protected files with a read key (and without one, which must
// look like no file at all), and paging through a bucket's listing.
//   STOWAGE_URL, STOWAGE_KEY (read and write scopes), STOWAGE_TENANT; RATE (protected GETs per second,
//   default 80); DURATION
import http from 'k6/http';
import { check } from 'k6';
import { env, expecting, fileUrl, payload, steady, storedKey, summary, uploadRaw } from './lib.js';

const files = 150;

export const options = {
  scenarios: {
    serve: { ...steady(Number(env('RATE', '80'))), exec: 'serve' },
    list: { ...steady(5, 5), exec: 'list' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    dropped_iterations: ['count<50'],
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:serve}': ['p(95)<500'],
    'http_req_duration{scenario:list}': ['p(95)<1000'],
  },
};

export function setup() {
  const urls = [];
  for (let i = 0; i < files; i++) {
    const key = storedKey(uploadRaw(env('STOWAGE_KEY'), 'private', payload(2048), `p${i}.txt`, false));
    if (!key) throw new Error('setup: an upload failed');
    urls.push(fileUrl(env('STOWAGE_TENANT'), 'private', key));
  }
  return { urls };
}

export function serve(data) {
  const url = data.urls[Math.floor(Math.random() * data.urls.length)];
  const res = http.get(url, {
    headers: { Authorization: `Bearer ${env('STOWAGE_KEY')}` },
    tags: { name: 'GET protected file' },
  });
  check(res, {
    'protected: 200 with a key': (r) => r.status === 200,
    'protected: not cached by shared caches': (r) => !/public/.test(r.headers['Cache-Control'] ?? ''),
  });
  if (Math.random() < 0.1) {
    const anonymous = http.get(url, {
      tags: { name: 'GET protected file (no key)' },
      responseCallback: expecting(404),
    });
    check(anonymous, { 'protected: 404 without a key': (r) => r.status === 404 });
  }
}

export function list() {
  const headers = { 'x-api-key': env('STOWAGE_KEY') };
  let cursor = '';
  let seen = 0;
  for (let page = 0; page < 10; page++) {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = http.get(`${env('STOWAGE_URL')}/files/private?limit=50${query}`, {
      headers,
      tags: { name: 'GET /files/:bucket' },
    });
    const ok = check(res, { 'list: 200': (r) => r.status === 200 });
    if (!ok) return;
    seen += res.json('files').length;
    if (!res.json('hasMore')) break;
    cursor = res.json('nextCursor');
  }
  check(seen, { 'list: every file, once': (n) => n === files });
}

export function handleSummary(data) {
  return summary('serve-protected', data);
}
