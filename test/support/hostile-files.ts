import { crc32, deflateRawSync, deflateSync } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/**
 * Files built to hurt a parser, made here at test time (nothing big is checked in). Each is the
 * real thing at a size that still proves the point on a small CI machine.
 */

/** A DOCX whose word/document.xml inflates to `expandedBytes` (one run of "a"): a zip bomb. */
export function zipBombDocx(expandedBytes: number): Buffer {
  const head =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
    '<w:body><w:p><w:r><w:t>';
  const tail = '</w:t></w:r></w:p></w:body></w:document>';
  const document = Buffer.alloc(expandedBytes, 'a');
  document.write(head, 0, 'latin1');
  document.write(tail, expandedBytes - tail.length, 'latin1');
  return zip([
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      ),
    },
    { name: 'word/document.xml', data: document },
  ]);
}

/** A PDF of `pages` pages with one line of text each. */
export async function pdfWithPages(pages: number): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    pdf
      .addPage([300, 200])
      .drawText(`Page ${n} explains password rotation.`, { x: 20, y: 100, size: 10, font });
  }
  return Buffer.from(await pdf.save());
}

/**
 * A one-page PDF whose content stream is small on disk and inflates to `inflatedBytes` of text
 * operators: the "huge object stream" a parser must not take the process down with.
 */
export function pdfWithHugeContentStream(inflatedBytes: number): Buffer {
  const operator = Buffer.from('BT /F1 12 Tf 72 712 Td (flood) Tj ET\n');
  const content = Buffer.alloc(inflatedBytes);
  for (let offset = 0; offset < inflatedBytes; offset += operator.length) operator.copy(content, offset);
  const stream = deflateSync(content, { level: 9 });
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  const offsets: number[] = [];
  let length = parts[0].length;
  objects.forEach((object, index) => {
    offsets.push(length);
    const body =
      object === null
        ? Buffer.concat([
            Buffer.from(`${index + 1} 0 obj\n<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
            stream,
            Buffer.from('\nendstream\nendobj\n'),
          ])
        : Buffer.from(`${index + 1} 0 obj\n${object}\nendobj\n`);
    parts.push(body);
    length += body.length;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n `),
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    `startxref\n${length}\n%%EOF\n`,
  ].join('\n');
  parts.push(Buffer.from(xref));
  return Buffer.concat(parts);
}

/**
 * HTML with `depth` nested elements around one sentence. The closing tags are left to the parser
 * (it closes them at the end, as browsers do), so a million levels fit under MAX_UPLOAD_BYTES.
 */
export function deeplyNestedHtml(depth: number): string {
  return `<html><body>${'<div>'.repeat(depth)}The bottom of the well.</body></html>`;
}

/** `bytes` of text on a single line: words and no line break anywhere. */
export function singleLineText(bytes: number): string {
  const words = 'password rotation keeps accounts safe ';
  return words.repeat(Math.ceil(bytes / words.length)).slice(0, bytes);
}

interface ZipEntry {
  name: string;
  data: Buffer;
}

/** A minimal ZIP writer (deflate, honest sizes): enough for a DOCX. */
function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
