// A realistic mix for one tenant's application, at a steady arrival rate: mostly reads of public files
// (a third of them revalidations), some protected reads, listings and metadata, image and document
// uploads (images keep the worker busy), usage checks and deletions of what this run uploaded.
//   STOWAGE_URL, STOWAGE_KEY (read and write scopes), STOWAGE_TENANT; RATE (per second, default 80);
//   DURATION; DELETE_SHARE (of uploads deleted again, default 0.5; 1 keeps the stored files level);
//   SUMMARY_JSON (a file for k6's whole summary)
import http from 'k6/http';
import { check } from 'k6';
import {
  env,
  expecting,
  fileUrl,
  payload,
  PNG_1X1,
  storedKey,
  steady,
  summary,
  uploadForm,
  uploadRaw,
} from './lib.js';

const key = () => env('STOWAGE_KEY');
const auth = () => ({ 'x-api-key': key() });

export const options = {
  scenarios: {
    mixed: steady(Number(env('RATE', '80')), 30),
  },
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
    'http_req_duration{kind:read}': ['p(95)<300'],
    'http_req_duration{kind:write}': ['p(95)<1000'],
    dropped_iterations: ['count<50'],
  },
};

export function setup() {
  const upload = (bucket, isPublic, i) =>
    storedKey(uploadRaw(key(), bucket, payload(16 * 1024), `seed${i}.txt`, isPublic));
  const publicFiles = [];
  const privateFiles = [];
  for (let i = 0; i < 30; i++)
    publicFiles.push(fileUrl(env('STOWAGE_TENANT'), 'site', upload('site', true, i)));
  for (let i = 0; i < 10; i++) privateFiles.push(upload('docs', false, i));
  const etags = publicFiles.map((url) => http.get(url).headers['Etag']);
  return { publicFiles, etags, privateFiles };
}

const pick = (list) => Math.floor(Math.random() * list.length);
const read = (name) => ({ tags: { kind: 'read', name } });
const write = (name) => ({ tags: { kind: 'write', name } });

function servePublic(data) {
  const i = pick(data.publicFiles);
  if (Math.random() < 0.33) {
    const res = http.get(data.publicFiles[i], {
      headers: { 'If-None-Match': data.etags[i] },
      responseCallback: expecting(304),
      ...read('GET public file (If-None-Match)'),
    });
    check(res, { 'public revalidate: 304': (r) => r.status === 304 });
  } else {
    const res = http.get(data.publicFiles[i], read('GET public file'));
    check(res, { 'public: 200': (r) => r.status === 200 });
  }
}

function serveProtected(data) {
  const url = fileUrl(env('STOWAGE_TENANT'), 'docs', data.privateFiles[pick(data.privateFiles)]);
  const res = http.get(url, { headers: auth(), ...read('GET protected file') });
  check(res, { 'protected: 200': (r) => r.status === 200 });
}

function listOrMetadata(data) {
  if (Math.random() < 0.5) {
    const res = http.get(`${env('STOWAGE_URL')}/files/site?limit=20`, {
      headers: auth(),
      ...read('GET /files/:bucket'),
    });
    check(res, { 'list: 200': (r) => r.status === 200 && r.json('files').length === 20 });
  } else {
    const name = data.privateFiles[pick(data.privateFiles)];
    const res = http.get(`${env('STOWAGE_URL')}/files/docs/${name}`, {
      headers: auth(),
      ...read('GET /files/:bucket/:key'),
    });
    check(res, { 'metadata: 200': (r) => r.status === 200 && r.json('file.key') === name });
  }
}

function uploadAndMaybeDelete() {
  const image = Math.random() < 0.5;
  const res = image
    ? uploadForm(key(), 'photos', PNG_1X1, 'pixel.png', write('POST /upload/:bucket'))
    : uploadRaw(key(), 'docs', payload(32 * 1024), 'doc.txt', false, write('PUT /upload/:bucket/:name'));
  check(res, { 'upload: 201': (r) => r.status === 201 });
  const stored = storedKey(res);
  if (!stored || Math.random() >= Number(env('DELETE_SHARE', '0.5'))) return;
  const del = http.post(
    `${env('STOWAGE_URL')}/files/delete`,
    JSON.stringify({ bucket: image ? 'photos' : 'docs', key: stored }),
    { headers: { ...auth(), 'content-type': 'application/json' }, ...write('POST /files/delete') },
  );
  check(del, { 'delete: 200': (r) => r.status === 200 });
}

function usage() {
  const res = http.get(`${env('STOWAGE_URL')}/usage`, { headers: auth(), ...read('GET /usage') });
  check(res, { 'usage: 200': (r) => r.status === 200 });
}

export default function (data) {
  const roll = Math.random();
  if (roll < 0.6) servePublic(data);
  else if (roll < 0.75) serveProtected(data);
  else if (roll < 0.87) listOrMetadata(data);
  else if (roll < 0.97) uploadAndMaybeDelete();
  else usage();
}

export function handleSummary(data) {
  return summary('mixed', data);
}
