import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupportedMimeType } from '#libs/contracts';
import { DocumentUnreadableError } from '../apps/ingest-worker/src/ingest/document-unreadable.error.js';
import { extractDocumentText } from '../apps/ingest-worker/src/ingest/text-extraction.js';
import { docxWithText, pdfWithText, RUSSIAN_PARAGRAPHS } from './support/fixtures.js';

const unreadable = (message: RegExp) => (error: unknown) =>
  error instanceof DocumentUnreadableError && message.test(error.message) && !error.message.includes('http');

describe('text extraction from binary formats', () => {
  it('reads every page of a PDF, pages separated like paragraphs', async () => {
    const long = Array.from({ length: 120 }, (_, n) => `Line ${n} of a long manual about password policies.`);
    const text = await extractDocumentText(await pdfWithText(long), SupportedMimeType.Pdf);
    assert.match(text, /^Line 0 of a long manual/);
    assert.match(text, /Line 119 of a long manual about password policies\.$/);
    assert.match(text, /\n\n/);
  });

  it('reads the paragraphs of a DOCX in any script', async () => {
    const text = await extractDocumentText(
      await docxWithText(RUSSIAN_PARAGRAPHS, 'Пароли'),
      SupportedMimeType.Docx,
    );
    assert.equal(text, ['Пароли', ...RUSSIAN_PARAGRAPHS].join('\n\n') + '\n\n');
  });

  it('rejects a file that is not really a DOCX with a readable message', async () => {
    await assert.rejects(
      extractDocumentText(Buffer.from('plain text pretending to be Word'), SupportedMimeType.Docx),
      unreadable(/^The file is not a readable DOCX document/),
    );
  });

  it('rejects a file that is not really a PDF with a readable message', async () => {
    await assert.rejects(
      extractDocumentText(Buffer.from('<html>not a pdf</html>'), SupportedMimeType.Pdf),
      unreadable(/^The file is not a readable PDF/),
    );
  });
});
