import fc from 'fast-check';

/**
 * Generators of hostile HTTP requests for the property-based suite (test/fuzz.spec.ts): every
 * route, with the inputs users and attackers actually send. Each request says which route it
 * aims at, so the suite can count answers per route.
 */

export type FuzzMethod = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'OPTIONS';

export interface FuzzRequest {
  route: string;
  method: FuzzMethod;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Sent as the API key on most requests; a fixed placeholder the suite replaces with a real token. */
export const VALID_KEY = '<valid key>';

const TSQUERY_PIECES = [
  "'",
  '&',
  '|',
  '!',
  ':*',
  '\\',
  '(',
  ')',
  '<->',
  '<2>',
  '"',
  '-',
  ':',
  '*',
  ' ',
  'a',
  'OR',
  'NOT',
];
const WORDS = [
  'password',
  'reset',
  'пароль',
  'паролей',
  'восстановить',
  'ёлка',
  '🙂',
  '👍🏽',
  '🇷🇺',
  '数据',
  'ünïcödé',
  'x',
];
const TRAVERSAL_NAMES = [
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/shadow',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '....//....//x.txt',
  'a/b/../../c.txt',
  'file\u0000.txt',
  'C:\\boot.ini',
  '<script>alert(1)</script>.html',
  'пароль.txt',
  '🙂.md',
  '.txt',
  '',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/octet-stream',
  'application/xml',
  'application/pdf',
  '*/*',
  ';;;==',
];

/** Text as people and scripts send it: Unicode of every plane, lone surrogates, control characters, tsquery syntax. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...TSQUERY_PIECES, ...WORDS), { maxLength: 30 }).map((pieces) => pieces.join('')),
  fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 12 }).map((words) => words.join(' ')),
  fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 20 }).map((codes) => String.fromCharCode(...codes)),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    'a\u0000b',
    '\u202e',
    '\ufeff',
    "'; DROP TABLE documents; --",
  ),
  fc.integer({ min: 1_990, max: 60_000 }).map((length) => 'я'.repeat(length)),
);

/** Values of every JSON type, for fields that expect one. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, true, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER, [], {}),
  },
);

const TOP_K_EDGES = [0, 1, 5, 50, 51, -1, 2 ** 31, -(2 ** 53), 1.5, 1e308, '5', null, [], {}, true];

/** JSON text nested `depth` levels deep, as objects or arrays. */
const deeplyNested: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 20, max: 200_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
  );

/** Optional extra fields nobody asked for, including prototype keys. */
const unknownFields: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'topK', 'tenant', 'id', 'status'),
        fc.string({ maxLength: 10 }),
      ),
      anyJson,
      { maxKeys: 3 },
    ),
  },
);

/** A JSON body that may be cut short, carry invalid UTF-8, or be something other than an object. */
function jsonBody(value: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: value.map((body) => Buffer.from(JSON.stringify(body) ?? 'null')) },
    {
      weight: 1,
      arbitrary: fc.tuple(value, fc.nat()).map(([body, cut]) => {
        const text = Buffer.from(JSON.stringify(body) ?? 'null');
        return text.subarray(0, cut % Math.max(1, text.length));
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          value,
          fc.nat(),
          fc.constantFrom(
            [0xff],
            [0xc0, 0xaf],
            [0xed, 0xa0, 0x80],
            [0xe2, 0x82],
            [0xf8, 0x88, 0x80, 0x80, 0x80],
          ),
        )
        .map(([body, at, bytes]) => {
          const text = Buffer.from(JSON.stringify(body) ?? 'null');
          const position = at % Math.max(1, text.length);
          return Buffer.concat([text.subarray(0, position), Buffer.from(bytes), text.subarray(position)]);
        }),
    },
    { weight: 1, arbitrary: deeplyNested.map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  );
}

const authorization: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ authorization: `Bearer ${VALID_KEY}` }) },
  { weight: 1, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { authorization: 'Bearer not-a-key' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${'k'.repeat(5_000)}` },
      { authorization: `bearer   ${VALID_KEY}   ` },
    ),
  },
);

/** Headers beside the body's: request ids and idempotency keys of any length, and oversized ones. */
const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((id) => ({ 'x-request-id': id })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'x-forwarded-for': '203.0.113.9' },
      { 'x-request-id': '../../x' },
    ),
  },
  // Past Node's 16 KiB header limit: answered 431 by the HTTP parser itself.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 40_000 }).map((size) => ({ 'x-padding': 'p'.repeat(size) })),
  },
);

/** Percent-encodes any string; a lone surrogate, which encodeURIComponent refuses, becomes U+FFFD. */
const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udfff]/gu, '\ufffd'));

/** Keeps only characters a header may carry, so the client library sends what was generated. */
const headerSafe = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

const collection = fc.oneof(
  fc.constantFrom('default', 'help', 'a', 'x'.repeat(64), 'x'.repeat(65), 'Bad Name', '-lead', '../up', ''),
  hostileText,
);

const queryRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.record(
      {
        query: fc.oneof({ weight: 4, arbitrary: hostileText }, { weight: 1, arbitrary: anyJson }),
        top_k: fc.constantFrom(...TOP_K_EDGES),
        collection: fc.oneof(collection, fc.constant(null), anyJson),
      },
      { requiredKeys: [] },
    ),
    unknownFields,
    authorization,
    extraHeaders,
    fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    ),
  )
  .chain(([fields, extra, auth, headers, contentType]) =>
    jsonBody(fc.constant({ ...fields, ...extra })).map((body) => ({
      route: 'POST /query',
      method: 'POST' as const,
      path: '/query',
      headers: { ...auth, ...headers, 'content-type': contentType },
      body,
    })),
  );

const metadata = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 4 }),
  fc.integer({ min: 9_000, max: 20_000 }).map((size) => ({ blob: 'm'.repeat(size) })),
  fc.constantFrom({ '\u0000': 1 }, { a: '\ud800' }, { lang: 'ru' }),
  // Deeper than the gateway accepts, shallow enough for JSON.stringify here (deeper bodies: deepUpload).
  fc
    .integer({ min: 30, max: 1_500 })
    .map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
  anyJson,
);

const jsonUpload: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.record(
      {
        title: fc.oneof({ weight: 3, arbitrary: hostileText }, { weight: 1, arbitrary: anyJson }),
        content: fc.oneof({ weight: 3, arbitrary: hostileText }, { weight: 1, arbitrary: anyJson }),
        collection,
        metadata,
      },
      { requiredKeys: [] },
    ),
    unknownFields,
    authorization,
    extraHeaders,
    fc.option(hostileText.map(headerSafe), { nil: undefined }),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    ),
  )
  .chain(([fields, extra, auth, headers, idempotencyKey, contentType]) =>
    jsonBody(fc.constant({ ...fields, ...extra })).map((body) => ({
      route: 'POST /documents (JSON)',
      method: 'POST' as const,
      path: '/documents',
      headers: {
        ...auth,
        ...headers,
        'content-type': contentType,
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      body,
    })),
  );

interface PartSpec {
  name: string;
  fileName: string | undefined;
  contentType: string | undefined;
  content: Buffer;
}

const partContent: fc.Arbitrary<Buffer> = fc.oneof(
  hostileText.map((text) => Buffer.from(text)),
  fc.constantFrom(
    Buffer.from('<html><body><script>alert(document.cookie)</script><p>hello</p></body></html>'),
    Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'),
    Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]),
    Buffer.from('# Title\n\nSome *markdown* text about password resets.\n'),
    Buffer.from('{"title":"json in a file"}'),
  ),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

const part: fc.Arbitrary<PartSpec> = fc.record({
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('file', 'title', 'collection', 'metadata') },
    { weight: 1, arbitrary: fc.constantFrom('other', '__proto__', '', 'file"; filename="x.txt', 'пароль') },
  ),
  fileName: fc.option(
    fc.oneof(
      fc.constantFrom(...TRAVERSAL_NAMES),
      fc.constantFrom('a.txt', 'a.md', 'a.html', 'a.pdf', 'a.docx', 'a.csv', 'a.exe', 'noext'),
    ),
    { nil: undefined },
  ),
  contentType: fc.option(
    fc.constantFrom(
      'text/plain',
      'text/html',
      'application/pdf',
      'application/json',
      'image/png',
      'application/octet-stream',
      'text/markdown; charset=utf-8',
    ),
    { nil: undefined },
  ),
  content: partContent,
});

function serializeParts(boundary: string, parts: PartSpec[]): Buffer {
  const chunks: Buffer[] = [];
  for (const { name, fileName, contentType, content } of parts) {
    const disposition =
      fileName === undefined
        ? `form-data; name="${name}"`
        : `form-data; name="${name}"; filename="${fileName}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n`));
    if (contentType !== undefined) chunks.push(Buffer.from(`Content-Type: ${contentType}\r\n`));
    chunks.push(Buffer.from('\r\n'), content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const multipartUpload: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.array(part, { minLength: 0, maxLength: 5 }),
    fc.constantFrom('normal', 'normal', 'normal', 'missing', 'overlong', 'mismatched', 'empty', 'quoted'),
    fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
    authorization,
    extraHeaders,
  )
  .map(([parts, boundaryKind, cutAt, auth, headers]) => {
    const boundary = boundaryKind === 'overlong' ? 'b'.repeat(300) : '----fuzz7MA4YWxkTrZu0gW';
    let body = serializeParts(boundaryKind === 'mismatched' ? 'other-boundary' : boundary, parts);
    if (cutAt !== undefined) body = body.subarray(0, cutAt % Math.max(1, body.length));
    const contentType = {
      normal: `multipart/form-data; boundary=${boundary}`,
      overlong: `multipart/form-data; boundary=${boundary}`,
      mismatched: `multipart/form-data; boundary=${boundary}`,
      quoted: `multipart/form-data; boundary="${boundary}"`,
      missing: 'multipart/form-data',
      empty: 'multipart/form-data; boundary=',
    }[boundaryKind];
    return {
      route: 'POST /documents (multipart)',
      method: 'POST' as const,
      path: '/documents',
      headers: { ...auth, ...headers, 'content-type': contentType },
      body,
    };
  });

const queryValue = fc.oneof(
  fc.constantFrom('1', '20', '100', '0', '101', '-1', '1e3', '1.5', 'abc', '', '%00', '99999999999999999999'),
  hostileText,
);

const listDocuments: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.dictionary(
      fc.constantFrom('limit', 'cursor', 'status', 'collection', 'unknown', 'limit[]', '__proto__'),
      fc.array(queryValue, { minLength: 1, maxLength: 2 }),
      { maxKeys: 4 },
    ),
    fc.boolean(),
    authorization,
    extraHeaders,
  )
  .map(([params, raw, auth, headers]) => {
    const query = Object.entries(params)
      .flatMap(([name, values]) =>
        values.map(
          (value) => `${encode(name)}=${raw ? headerSafe(value).replace(/[\s#]/g, '') : encode(value)}`,
        ),
      )
      .join('&');
    return {
      route: 'GET /documents',
      method: 'GET' as const,
      path: `/documents${query === '' ? '' : `?${query}`}`,
      headers: { ...auth, ...headers },
    };
  });

const documentId = fc.oneof(
  fc.uuid().map((id) => encodeURIComponent(id)),
  fc.constantFrom(
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e',
    '%00',
    '%ff',
    '%',
    'not-a-uuid',
    'x'.repeat(500),
    '00000000-0000-0000-0000-000000000000',
  ),
  hostileText.map((text) => encode(text.slice(0, 200))),
);

const oneDocument: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom<FuzzMethod>('GET', 'DELETE'), documentId, authorization, extraHeaders)
  .map(([method, id, auth, headers]) => ({
    route: `${method} /documents/:id`,
    method,
    path: `/documents/${id}`,
    headers: { ...auth, ...headers },
  }));

const operations: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom(
      '/health',
      '/health/live',
      '/metrics',
      '/docs-json',
      '/nowhere',
      '/documents/',
      '/query/x',
      '//documents',
      '/%2e%2e/%2e%2e/etc/passwd',
    ),
    fc.constantFrom<FuzzMethod>('GET', 'GET', 'GET', 'PUT', 'PATCH', 'OPTIONS', 'DELETE'),
    authorization,
    extraHeaders,
  )
  .map(([path, method, auth, headers]) => ({
    route: 'other routes',
    method,
    path,
    headers: { ...auth, ...headers },
  }));

/** An upload whose metadata is nested far deeper than any validator's stack allows. */
const deepUpload: fc.Arbitrary<FuzzRequest> = fc.tuple(deeplyNested, authorization).map(([deep, auth]) => ({
  route: 'POST /documents (JSON)',
  method: 'POST' as const,
  path: '/documents',
  headers: { ...auth, 'content-type': 'application/json' },
  body: Buffer.from(`{"title":"deep","content":"text","metadata":{"x":${deep}}}`),
}));

/** One generated request, weighted towards the routes with bodies. */
export const hostileRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 5, arbitrary: queryRequest },
  { weight: 3, arbitrary: jsonUpload },
  { weight: 1, arbitrary: deepUpload },
  { weight: 3, arbitrary: multipartUpload },
  { weight: 2, arbitrary: listDocuments },
  { weight: 2, arbitrary: oneDocument },
  { weight: 1, arbitrary: operations },
);
