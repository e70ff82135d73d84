// Uploads with status polling alongside queries, some of which miss the cache:
//   k6 run loadtest/k6/upload-query.js                        # BASE_URL=http://localhost:8000
// Scenario "uploaders": UPLOAD_RATE uploads per second (~20 KB text each), each polled until
// `indexed`; the time to indexed is the `ingest_time` trend. Documents are deleted afterwards
// unless KEEP_DOCUMENTS=1. Scenario "askers": users asking repeated and new questions.
// Needs the keys test-load-token-1 .. test-load-token-100 (loadtest/README.md).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Rate, Trend } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8000';
const TOKEN_COUNT = Number(__ENV.TOKEN_COUNT || 100);
const UPLOAD_RATE = Number(__ENV.UPLOAD_RATE || 2);
const DURATION = __ENV.DURATION || '3m';
const KEEP_DOCUMENTS = __ENV.KEEP_DOCUMENTS === '1';

export const errors = new Rate('errors');
export const ingestTime = new Trend('ingest_time', true);
export const ingestFailed = new Rate('ingest_failed');

export const options = {
  scenarios: {
    uploaders: {
      executor: 'constant-arrival-rate',
      exec: 'upload',
      rate: UPLOAD_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 20,
      maxVUs: 200,
    },
    askers: {
      executor: 'ramping-vus',
      exec: 'ask',
      startVUs: 0,
      stages: [
        { duration: '30s', target: 200 },
        { duration: DURATION, target: 200 },
        { duration: '15s', target: 0 },
      ],
    },
  },
  thresholds: {
    errors: ['rate<0.01'],
    ingest_failed: ['rate<0.01'],
    ingest_time: ['p(95)<10000'],
    'http_req_duration{name:upload}': ['p(95)<500'],
    'http_req_duration{name:query}': ['p(95)<300'],
  },
};

const WORDS = (
  'password account reset security settings invoice billing refund policy upload document search ' +
  'query answer index chunk retrieval ranking latency cache gateway worker queue database redis ' +
  'postgres network request response error timeout limit token session user team member admin'
).split(' ');

function text(bytes) {
  const parts = [];
  let length = 0;
  while (length < bytes) {
    const word = WORDS[Math.floor(Math.random() * WORDS.length)];
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}

function authHeaders() {
  return { Authorization: `Bearer test-load-token-${((__VU - 1) % TOKEN_COUNT) + 1}` };
}

export function upload() {
  const headers = authHeaders();
  const started = Date.now();
  const response = http.post(
    `${BASE_URL}/documents`,
    JSON.stringify({ title: `k6 ${__VU}-${__ITER}`, content: text(20000), collection: 'loadtest' }),
    { headers: { ...headers, 'Content-Type': 'application/json' }, tags: { name: 'upload' } },
  );
  const accepted = check(response, { 'upload is 202': (r) => r.status === 202 });
  errors.add(!accepted);
  if (!accepted) return;
  const id = response.json('id');

  let status = 'queued';
  while (status !== 'indexed' && status !== 'failed' && Date.now() - started < 60000) {
    sleep(0.2);
    const poll = http.get(`${BASE_URL}/documents/${id}`, { headers, tags: { name: 'status' } });
    errors.add(!check(poll, { 'status is 200': (r) => r.status === 200 }));
    if (poll.status === 200) status = poll.json('status');
  }
  ingestFailed.add(status !== 'indexed');
  if (status === 'indexed') ingestTime.add(Date.now() - started);

  if (!KEEP_DOCUMENTS) {
    const removed = http.del(`${BASE_URL}/documents/${id}`, null, { headers, tags: { name: 'delete' } });
    errors.add(!check(removed, { 'delete is 204': (r) => r.status === 204 }));
  }
}

export function ask() {
  const headers = { ...authHeaders(), 'Content-Type': 'application/json' };
  // One question in five is new (a cache miss answered by a query worker).
  const fresh = Math.random() < 0.2;
  const words = [0, 1, 2].map(() => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ');
  const query = fresh ? `${words} ${__VU}-${__ITER}` : `how do I ${WORDS[__ITER % 10]} my account?`;
  const response = http.post(`${BASE_URL}/query`, JSON.stringify({ query, top_k: 5 }), {
    headers,
    tags: { name: 'query' },
  });
  errors.add(!check(response, { 'query is 200': (r) => r.status === 200 }));
  sleep(1);
}
