/* global __ENV */
// Shared by the k6 scripts: settings from the environment, requests, and the printed summary.
import http from 'k6/http';
import encoding from 'k6/encoding';

/** A setting the load-test runner (or you) passes with `-e NAME=value` or the environment. */
export function env(name, fallback) {
  const value = __ENV[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`${name} is not set`);
}

export const base = () => env('STOWAGE_URL');

/** A tiny valid PNG (1x1): an image, so an upload of it gets variants from the worker. */
export const PNG_1X1 = encoding.b64decode(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
);

/** `size` bytes of text that no type sniffer recognises, different per call. */
export function payload(size) {
  const stamp = `${Date.now()}-${Math.random()}\n`;
  return stamp.repeat(Math.ceil(size / stamp.length)).slice(0, size);
}

/** A multipart upload, as `curl -F file=@…` sends it. */
export function uploadForm(key, bucket, content, filename, params = {}) {
  return http.post(
    `${base()}/upload/${bucket}`,
    { file: http.file(content, filename, 'application/octet-stream') },
    { headers: { 'x-api-key': key }, ...params, tags: { name: 'POST /upload/:bucket', ...params.tags } },
  );
}

/** A raw-body upload (`PUT /upload/:bucket/:name`), public unless `isPublic` is false. */
export function uploadRaw(key, bucket, content, name, isPublic = true, params = {}) {
  const query = isPublic ? '' : '?allowPublicAccess=false';
  return http.put(`${base()}/upload/${bucket}/${name}${query}`, content, {
    headers: { 'x-api-key': key, 'content-type': 'application/octet-stream' },
    ...params,
    tags: { name: 'PUT /upload/:bucket/:name', ...params.tags },
  });
}

/** The key of the stored file an upload answered with (undefined if it failed). */
export function storedKey(res) {
  if (res.status !== 201) return undefined;
  return res.json('file.key');
}

/** Where a stored file is served. */
export const fileUrl = (tenant, bucket, key) => `${base()}/${tenant}/${bucket}/${key}`;

/** Counts a response as a failure only when it is not one of the statuses the script expects. */
export const expecting = (...statuses) => http.expectedStatuses(...statuses);

function formatValue(metric, name, value) {
  if (metric.contains === 'time') return `${value.toFixed(2)}ms`;
  if (metric.contains === 'data') return `${(value / 2 ** 20).toFixed(2)}MiB`;
  if (name === 'rate' && metric.type === 'rate') return `${(value * 100).toFixed(2)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function thresholdMarks(metric) {
  const results = Object.entries(metric.thresholds ?? {});
  return results.map(([expr, t]) => `${t.ok ? 'ok' : 'FAILED'} ${expr}`).join(', ');
}

/**
 * A compact text summary for `handleSummary`, on stdout: the request, check and iteration metrics, the
 * script's own and tagged ones, each with its thresholds' verdicts. `title` names the script. With
 * SUMMARY_JSON set, the whole summary also goes to that file as JSON.
 */
export function summary(title, data) {
  const lines = [`\n== ${title} (${(data.state.testRunDurationMs / 1000).toFixed(1)} s) ==`];
  const builtIn = ['http_reqs', 'http_req_duration', 'http_req_failed', 'checks', 'iterations'];
  for (const [name, metric] of Object.entries(data.metrics).sort(([a], [b]) => a.localeCompare(b))) {
    const own = !name.startsWith('http_') && !name.startsWith('data_') && !name.startsWith('iteration');
    const shown = builtIn.includes(name) || name.includes('{') || (own && !name.startsWith('vus'));
    if (!shown) continue;
    const values = Object.entries(metric.values)
      .filter(([k]) => !['min', 'med', 'p(90)'].includes(k))
      .map(([k, v]) => `${k}=${formatValue(metric, k, v)}`)
      .join(' ');
    const marks = thresholdMarks(metric);
    lines.push(`  ${name.padEnd(44)} ${values}${marks ? `  [${marks}]` : ''}`);
  }
  const out = { stdout: `${lines.join('\n')}\n` };
  const file = env('SUMMARY_JSON', '');
  if (file) out[file] = JSON.stringify(data);
  return out;
}

/**
 * A scenario at a fixed arrival rate (per second) for DURATION, so latency is measured at a known load
 * rather than at saturation; `vus` virtual users are ready, and up to five times as many may start.
 */
export const steady = (rate, vus = 20) => ({
  executor: 'constant-arrival-rate',
  rate,
  timeUnit: '1s',
  duration: env('DURATION', '15s'),
  preAllocatedVUs: vus,
  maxVUs: vus * 5,
});
