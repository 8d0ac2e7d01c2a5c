/* global __ENV */
// One URL fetched as fast as 16 virtual users can for 10 s (with API_KEY as x-api-key when set);
// `make bench` reads the summary export.
import http from 'k6/http';

export const options = {
  vus: 16,
  duration: '10s',
  summaryTrendStats: ['med', 'p(99)'],
};

const params = __ENV.API_KEY ? { headers: { 'x-api-key': __ENV.API_KEY } } : {};

export default function () {
  const res = http.get(__ENV.URL, params);
  if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
}
