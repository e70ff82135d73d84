import { extname } from 'node:path';
import { SupportedMimeType } from '#libs/contracts';

const BY_EXTENSION: Readonly<Record<string, SupportedMimeType>> = {
  '.txt': SupportedMimeType.PlainText,
  '.md': SupportedMimeType.Markdown,
  '.markdown': SupportedMimeType.Markdown,
  '.html': SupportedMimeType.Html,
  '.htm': SupportedMimeType.Html,
  '.pdf': SupportedMimeType.Pdf,
  '.docx': SupportedMimeType.Docx,
};

const BY_DECLARED_TYPE: Readonly<Record<string, SupportedMimeType>> = {
  'text/plain': SupportedMimeType.PlainText,
  'text/markdown': SupportedMimeType.Markdown,
  'text/x-markdown': SupportedMimeType.Markdown,
  'text/html': SupportedMimeType.Html,
  'application/pdf': SupportedMimeType.Pdf,
  [SupportedMimeType.Docx]: SupportedMimeType.Docx,
};

export const SUPPORTED_EXTENSIONS = Object.keys(BY_EXTENSION);

const PDF_MAGIC = Buffer.from('%PDF-');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** PDF readers accept the header anywhere in the first KiB. */
const PDF_HEADER_WINDOW = 1024;
const TEXT_SNIFF_BYTES = 8 * 1024;

export type UploadTypeResult = { ok: true; mimeType: SupportedMimeType } | { ok: false; reason: string };

/**
 * The type of an uploaded file: its extension when it has a known one, else the part's declared
 * type, else its magic bytes (a PDF sent as application/octet-stream). The bytes must agree:
 * a ".pdf" without a PDF header, a ".docx" that is not a zip, or "text" with NUL bytes is refused.
 */
export function detectUploadType(fileName: string, declaredType: string, bytes: Buffer): UploadTypeResult {
  const extension = extname(fileName).toLowerCase();
  const declared = declaredType.split(';')[0]?.trim().toLowerCase() ?? '';
  const looksPdf = bytes.subarray(0, PDF_HEADER_WINDOW).includes(PDF_MAGIC);
  const claimed =
    BY_EXTENSION[extension] ??
    (extension === '' || extension === '.bin' ? BY_DECLARED_TYPE[declared] : undefined) ??
    (looksPdf ? SupportedMimeType.Pdf : undefined);
  if (claimed === undefined) {
    return {
      ok: false,
      reason: `file: unsupported type (${extension || 'no extension'}, ${declared || 'no content type'}); send ${SUPPORTED_EXTENSIONS.join(', ')}`,
    };
  }
  switch (claimed) {
    case SupportedMimeType.Pdf:
      return looksPdf
        ? { ok: true, mimeType: claimed }
        : { ok: false, reason: 'file: is not a PDF (no %PDF header)' };
    case SupportedMimeType.Docx:
      return bytes.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)
        ? { ok: true, mimeType: claimed }
        : { ok: false, reason: 'file: is not a DOCX document (not a zip archive)' };
    default:
      return bytes.subarray(0, TEXT_SNIFF_BYTES).includes(0)
        ? { ok: false, reason: `file: is binary, not ${claimed}` }
        : { ok: true, mimeType: claimed };
  }
}
