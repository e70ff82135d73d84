import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupportedMimeType } from '#libs/contracts';
import { DocumentUnreadableError } from './document-unreadable.error.js';
import { decodeText, extractDocumentText, normalizeText, stripMarkdown } from './text-extraction.js';

describe('text extraction', () => {
  it('normalizes line endings, NUL characters, trailing blanks and runs of blank lines', () => {
    assert.equal(normalizeText('a\r\nb\rc \t\n\n\n\nd\u0000e'), 'a\nb\nc\n\nde');
  });

  it('decodes UTF-8 and UTF-16 with a byte-order mark', () => {
    assert.equal(decodeText(Buffer.from('пароль', 'utf8')), 'пароль');
    assert.equal(
      decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('пароль', 'utf16le')])),
      'пароль',
    );
  });

  it('strips Markdown markup but keeps the words a reader sees', () => {
    const markdown = [
      '# Reset guide',
      '',
      'Open **account settings** and _security_, see [the help page](https://example.com/help).',
      '',
      '```bash',
      'reset --user snake_case_name',
      '```',
      '',
      '- first item',
      '> quoted `code`',
    ].join('\n');
    assert.equal(
      stripMarkdown(markdown),
      [
        'Reset guide',
        '',
        'Open account settings and security, see the help page.',
        '',
        '',
        'reset --user snake_case_name',
        '',
        '',
        'first item',
        'quoted code',
      ].join('\n'),
    );
  });

  it('extracts the visible text of HTML, without scripts, styles or link targets', async () => {
    const html =
      '<html><head><style>p{}</style><script>var secret = 1;</script></head>' +
      '<body><h1>Title</h1><p>First <b>para</b>.</p><p><a href="https://x.example">Link text</a></p></body></html>';
    const text = await extractDocumentText(Buffer.from(html), SupportedMimeType.Html);
    assert.match(text, /TITLE|Title/);
    assert.match(text, /First para\./);
    assert.match(text, /Link text/);
    assert.doesNotMatch(text, /secret|x\.example|p\{\}/);
  });

  it('rejects blank content and unknown types with an unrecoverable, readable error', async () => {
    await assert.rejects(
      extractDocumentText(Buffer.from(' \n\t '), SupportedMimeType.PlainText),
      (error: unknown) =>
        error instanceof DocumentUnreadableError && error.message === 'The document has no extractable text',
    );
    await assert.rejects(
      extractDocumentText(Buffer.from('x'), 'image/png'),
      (error: unknown) =>
        error instanceof DocumentUnreadableError && /Unsupported content type/.test(error.message),
    );
  });
});
