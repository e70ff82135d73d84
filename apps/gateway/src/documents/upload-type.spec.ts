import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupportedMimeType } from '#libs/contracts';
import { detectUploadType } from './upload-type.js';

const text = Buffer.from('hello');
const pdf = Buffer.from('%PDF-1.4\n%âãÏÓ\n');
const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]);

describe('detectUploadType', () => {
  it('maps every supported extension, case-insensitively', () => {
    assert.deepEqual(detectUploadType('a.TXT', '', text), {
      ok: true,
      mimeType: SupportedMimeType.PlainText,
    });
    assert.deepEqual(detectUploadType('a.md', '', text), { ok: true, mimeType: SupportedMimeType.Markdown });
    assert.deepEqual(detectUploadType('a.markdown', '', text), {
      ok: true,
      mimeType: SupportedMimeType.Markdown,
    });
    assert.deepEqual(detectUploadType('a.htm', '', text), { ok: true, mimeType: SupportedMimeType.Html });
    assert.deepEqual(detectUploadType('a.html', '', text), { ok: true, mimeType: SupportedMimeType.Html });
    assert.deepEqual(detectUploadType('a.pdf', '', pdf), { ok: true, mimeType: SupportedMimeType.Pdf });
    assert.deepEqual(detectUploadType('a.docx', '', zip), { ok: true, mimeType: SupportedMimeType.Docx });
  });

  it('uses the declared type when the name has no extension, and sniffs PDFs sent as octet-stream', () => {
    assert.deepEqual(detectUploadType('notes', 'text/markdown; charset=utf-8', text), {
      ok: true,
      mimeType: SupportedMimeType.Markdown,
    });
    assert.deepEqual(detectUploadType('blob', 'application/octet-stream', pdf), {
      ok: true,
      mimeType: SupportedMimeType.Pdf,
    });
  });

  it('refuses unknown extensions even with a text content type', () => {
    const result = detectUploadType('data.csv', 'text/plain', text);
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : '', /^file: unsupported type \(\.csv/);
  });

  it('refuses bytes that contradict the extension', () => {
    assert.equal(detectUploadType('a.pdf', 'application/pdf', text).ok, false);
    assert.equal(detectUploadType('a.docx', '', pdf).ok, false);
    assert.equal(detectUploadType('a.txt', 'text/plain', Buffer.from([0x41, 0x00, 0x42])).ok, false);
  });
});
