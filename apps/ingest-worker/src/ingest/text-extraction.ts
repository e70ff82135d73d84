import { convert as htmlToText } from 'html-to-text';
import mammoth from 'mammoth';
import { extractText as extractPdfText, getDocumentProxy } from 'unpdf';
import { SupportedMimeType } from '#libs/contracts';
import { declaredZipExpansion } from '../extraction/zip-expansion.js';
import { DocumentUnreadableError } from './document-unreadable.error.js';

/** pdf.js logs warnings about damaged files to the console; the job reports them instead. */
const PDF_VERBOSITY_ERRORS = 0;

/**
 * The plain text of an upload, with line endings unified, NUL characters removed (Postgres text
 * cannot hold them) and trailing blanks stripped so that a paragraph break is always "\n\n".
 * Chunk offsets point into this text. Throws DocumentUnreadableError when there is no text to index.
 */
export interface ExtractionInputLimits {
  /** What a compressed container (DOCX) may expand to. */
  maxExpandedBytes: number;
}

const DEFAULT_LIMITS: ExtractionInputLimits = { maxExpandedBytes: 512 * 2 ** 20 };

export async function extractDocumentText(
  body: Buffer,
  mimeType: string,
  limits: ExtractionInputLimits = DEFAULT_LIMITS,
): Promise<string> {
  const raw = await extractRaw(body, mimeType, limits);
  const text = normalizeText(raw);
  if (text.trim() === '') throw new DocumentUnreadableError(noTextMessage(mimeType));
  return text;
}

export function normalizeText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      .replaceAll('\u0000', '')
      // Line by line, not /[^\S\n]+$/gm: that pattern backtracks over every run of blanks not at a
      // line end, so one long line of spaces took quadratic time.
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
  );
}

async function extractRaw(body: Buffer, mimeType: string, limits: ExtractionInputLimits): Promise<string> {
  switch (mimeType) {
    case SupportedMimeType.PlainText:
      return decodeText(body);
    case SupportedMimeType.Markdown:
      return stripMarkdown(decodeText(body));
    case SupportedMimeType.Html:
      return htmlToText(decodeText(body), {
        wordwrap: false,
        selectors: [
          { selector: 'a', options: { ignoreHref: true } },
          { selector: 'img', format: 'skip' },
        ],
      });
    case SupportedMimeType.Pdf:
      return extractPdf(body);
    case SupportedMimeType.Docx:
      return extractDocx(body, limits);
    default:
      throw new DocumentUnreadableError(`Unsupported content type "${mimeType}"`);
  }
}

/** UTF-8 unless a byte-order mark says UTF-16; undecodable bytes become U+FFFD rather than failing the upload. */
export function decodeText(body: Buffer): string {
  if (body[0] === 0xff && body[1] === 0xfe) return new TextDecoder('utf-16le').decode(body);
  if (body[0] === 0xfe && body[1] === 0xff) return new TextDecoder('utf-16be').decode(body);
  return new TextDecoder('utf-8').decode(body);
}

/**
 * Light Markdown cleanup: drops the markup that would otherwise become noise terms (link targets,
 * image references, fence and heading markers, emphasis) and keeps every word a reader sees.
 */
export function stripMarkdown(markdown: string): string {
  return markdown
    .replace(/^[ \t]*(```|~~~).*$/gm, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^ {0,3}#{1,6}[ \t]+/gm, '')
    .replace(/^ {0,3}>[ \t]?/gm, '')
    .replace(/^[ \t]*([-*+]|\d+[.)])[ \t]+/gm, '')
    .replace(/^[ \t]*([-*_][ \t]*){3,}$/gm, '')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])[*_](?=\S)([^*_\n]*?\S)[*_](?![\w*])/g, '$1$2')
    .replace(/`([^`\n]+)`/g, '$1');
}

async function extractPdf(body: Buffer): Promise<string> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js may take over the buffer it is given: hand it a copy, not the Buffer we still hold.
    pdf = await getDocumentProxy(new Uint8Array(body), { verbosity: PDF_VERBOSITY_ERRORS });
  } catch (error) {
    throw new DocumentUnreadableError(pdfOpenMessage(error));
  }
  try {
    const { text } = await extractPdfText(pdf, { mergePages: false });
    // A page is at least a paragraph; the chunker prefers to cut there.
    return text.join('\n\n');
  } catch (error) {
    throw new DocumentUnreadableError(`The PDF could not be read: ${errorMessage(error)}`);
  } finally {
    await pdf.destroy();
  }
}

function pdfOpenMessage(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return 'The PDF is password-protected; upload an unprotected copy';
  if (name === 'InvalidPDFException') return 'The file is not a readable PDF (invalid PDF structure)';
  return `The PDF could not be opened: ${errorMessage(error)}`;
}

async function extractDocx(body: Buffer, limits: ExtractionInputLimits): Promise<string> {
  const expansion = declaredZipExpansion(body);
  // A file that is not a ZIP at all gets mammoth's own, more telling, message below.
  if (expansion > limits.maxExpandedBytes && body.subarray(0, 2).toString('latin1') === 'PK') {
    throw new DocumentUnreadableError(
      `The DOCX document expands to ${expansion === Infinity ? 'an unknown size' : `${Math.round(expansion / 2 ** 20)} MB`}, ` +
        `more than the ${Math.floor(limits.maxExpandedBytes / 2 ** 20)} MB allowed`,
    );
  }
  try {
    const { value } = await mammoth.extractRawText({ buffer: body });
    return value;
  } catch (error) {
    const reason = errorMessage(error);
    if (/central directory|zip/i.test(reason)) {
      throw new DocumentUnreadableError('The file is not a readable DOCX document (not a valid ZIP archive)');
    }
    throw new DocumentUnreadableError(`The DOCX document could not be read: ${reason}`);
  }
}

function noTextMessage(mimeType: string): string {
  if (mimeType === SupportedMimeType.Pdf) {
    return 'The PDF has no extractable text (scanned pages without a text layer are not supported)';
  }
  return 'The document has no extractable text';
}

/** First line of the library's message, without stack or links: it ends up in front of the user. */
function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split('\n')[0]
    .replace(/https?:\/\/\S+/g, '')
    .trim()
    .slice(0, 300);
}
