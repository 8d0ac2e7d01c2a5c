// Uploads: small multipart uploads at a steady rate, while one client streams large raw-body uploads
// through the API back to back.
//   STOWAGE_URL, STOWAGE_KEY (write scope); RATE (small uploads per second, default 10); LARGE_MIB
//   (default 16); DURATION (default 15s)
import { check } from 'k6';
import { Trend } from 'k6/metrics';
import { env, payload, steady, summary, uploadForm, uploadRaw } from './lib.js';

const duration = env('DURATION', '15s');
const largeBytes = Number(env('LARGE_MIB', '16')) * 2 ** 20;
const uploadedMiBps = new Trend('upload_large_mib_per_s');

export const options = {
  scenarios: {
    small: { ...steady(Number(env('RATE', '10')), 10), exec: 'small' },
    large: { executor: 'constant-vus', vus: 1, duration, exec: 'large' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    dropped_iterations: ['count<50'],
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:small}': ['p(95)<1000'],
    'http_req_duration{scenario:large}': ['p(95)<15000'],
  },
};

export function setup() {
  // One body per size, made once: building a 16 MiB string per iteration would measure k6, not us.
  return { smallBody: payload(4 * 1024), largeBody: payload(largeBytes) };
}

export function small(data) {
  const res = uploadForm(env('STOWAGE_KEY'), 'small', data.smallBody, 'small.txt');
  check(res, {
    'small upload: 201': (r) => r.status === 201,
    'small upload: size recorded': (r) => r.status === 201 && r.json('file.size') === data.smallBody.length,
  });
}

export function large(data) {
  const res = uploadRaw(env('STOWAGE_KEY'), 'large', data.largeBody, 'large.bin');
  check(res, {
    'large upload: 201': (r) => r.status === 201,
    'large upload: size recorded': (r) => r.status === 201 && r.json('file.size') === largeBytes,
  });
  if (res.status === 201) uploadedMiBps.add(largeBytes / 2 ** 20 / (res.timings.duration / 1000));
}

export function handleSummary(data) {
  return summary('uploads', data);
}
