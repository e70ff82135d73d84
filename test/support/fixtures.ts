import { createHash, randomUUID } from 'node:crypto';
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { DEFAULT_COLLECTION } from '#libs/contracts';
import type { NewDocument } from '#libs/database';

/** Sample uploads of every supported type, generated in memory so tests carry no binary files. */

const PAGE_WIDTH = 595;
const PAGE_HEIGHT = 842;
const MARGIN = 50;
const FONT_SIZE = 11;
const LINE_HEIGHT = 15;

/**
 * A text PDF with each paragraph wrapped to the page and a blank line between paragraphs, on as many
 * A4 pages as it needs. The standard Helvetica font covers Latin-1 only: Cyrillic text cannot go in.
 */
export async function pdfWithText(paragraphs: string | readonly string[]): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const maxWidth = PAGE_WIDTH - 2 * MARGIN;
  const lines: string[] = [];
  for (const paragraph of typeof paragraphs === 'string' ? [paragraphs] : paragraphs) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (line !== '' && font.widthOfTextAtSize(candidate, FONT_SIZE) > maxWidth) {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    lines.push(line, '');
  }
  const linesPerPage = Math.floor((PAGE_HEIGHT - 2 * MARGIN) / LINE_HEIGHT);
  for (let first = 0; first < lines.length; first += linesPerPage) {
    const page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
    lines.slice(first, first + linesPerPage).forEach((line, index) => {
      if (line !== '') {
        page.drawText(line, {
          x: MARGIN,
          y: PAGE_HEIGHT - MARGIN - (index + 1) * LINE_HEIGHT,
          size: FONT_SIZE,
          font,
        });
      }
    });
  }
  return Buffer.from(await pdf.save());
}

/** A PDF with a page but no text layer at all, like a scan. */
export async function pdfWithoutText(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]).drawRectangle({ x: 100, y: 100, width: 200, height: 200 });
  return Buffer.from(await pdf.save());
}

/** Starts like a PDF, is not one: what a truncated or mislabelled upload looks like. */
export function corruptPdf(): Buffer {
  return Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\nthis file was cut short', 'latin1');
}

/** A DOCX (Word) document with an optional heading and one paragraph per string; any script works. */
export async function docxWithText(paragraphs: readonly string[], heading?: string): Promise<Buffer> {
  const children = paragraphs.map((text) => new Paragraph({ text }));
  if (heading !== undefined)
    children.unshift(new Paragraph({ text: heading, heading: HeadingLevel.HEADING_1 }));
  const document = new Document({ sections: [{ children }] });
  return Packer.toBuffer(document);
}

/** An HTML page whose visible text is the title and the paragraphs (plus a script and a style that must not be indexed). */
export function htmlPage(title: string, paragraphs: readonly string[]): string {
  const escape = (text: string) =>
    text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
  return [
    '<!doctype html>',
    `<html><head><title>${escape(title)}</title><style>body { font-family: sans-serif }</style>`,
    '<script>window.trackingSecret = "do-not-index";</script></head><body>',
    `<h1>${escape(title)}</h1>`,
    ...paragraphs.map((paragraph) => `<p>${escape(paragraph)}</p>`),
    '<p><a href="https://example.com/help">Contact support</a></p>',
    '</body></html>',
  ].join('\n');
}

/** A Markdown document with a heading, emphasis, a link and a list around the given paragraphs. */
export function markdownDocument(title: string, paragraphs: readonly string[]): string {
  return [
    `# ${title}`,
    '',
    ...paragraphs.flatMap((paragraph) => [paragraph, '']),
    '## See also',
    '',
    '- **Bold item** in a list',
    '- [Contact support](https://example.com/help)',
    '',
  ].join('\n');
}

/** English sample text: a few short paragraphs about password resets. */
export const ENGLISH_PARAGRAPHS: readonly string[] = [
  'To reset your password, open the account settings and choose the security tab. The reset link is sent to the email address on file.',
  'The link expires after thirty minutes. If it has expired, request a new one from the same page.',
  'Administrators can force a password reset for any user from the admin console.',
];

/** Russian sample text about the same subject. */
export const RUSSIAN_PARAGRAPHS: readonly string[] = [
  'Чтобы восстановить пароль, откройте настройки учётной записи и выберите вкладку безопасности. Ссылка для сброса придёт на вашу электронную почту.',
  'Ссылка действует тридцать минут. Если срок истёк, запросите новую ссылку на той же странице.',
];

/** The row DocumentsRepository.createQueued needs for an upload of `body`, as the gateway would build it. */
export function newDocument(
  body: Buffer,
  mimeType: string,
  overrides: Partial<Omit<NewDocument, 'sizeBytes' | 'mimeType' | 'contentSha256'>> = {},
): NewDocument {
  return {
    id: randomUUID(),
    collection: DEFAULT_COLLECTION,
    title: 'Test document',
    metadata: {},
    idempotencyKey: null,
    apiKeyId: null,
    ...overrides,
    sizeBytes: body.length,
    mimeType,
    contentSha256: createHash('sha256').update(body).digest('hex'),
  };
}
