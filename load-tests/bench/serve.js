/* global __ENV */
// One URL fetched as fast as VUS virtual users can for DURATION; `make bench` reads the summary export.
import http from 'k6/http';

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '10s',
  summaryTrendStats: ['med', 'p(99)'],
};

const headers = JSON.parse(__ENV.HEADERS || '{}');

export default function () {
  const res = http.get(__ENV.URL, { headers });
  if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
}
