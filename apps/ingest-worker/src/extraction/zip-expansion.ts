/**
 * What a ZIP archive (DOCX) says it expands to, from its central directory, without inflating
 * anything. Inflated data lands in buffers outside the V8 heap, which a thread's heap limit does
 * not bound: a zip bomb must be refused before it is opened. Returns Infinity for what cannot be
 * vouched for (ZIP64 sizes, a directory that does not parse), so the caller refuses it too.
 */
export function declaredZipExpansion(zip: Buffer): number {
  const end = findEndOfCentralDirectory(zip);
  if (end < 0) return Infinity;
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  let total = 0;
  for (let i = 0; i < entries; i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) return Infinity;
    const uncompressed = zip.readUInt32LE(offset + 24);
    if (uncompressed === ZIP64_MARKER) return Infinity;
    total += uncompressed;
    offset +=
      46 + zip.readUInt16LE(offset + 28) + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return total;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const ZIP64_MARKER = 0xffffffff;
/** The end record is 22 bytes plus a comment of at most 65,535. */
const MAX_END_SEARCH = 22 + 0xffff;

function findEndOfCentralDirectory(zip: Buffer): number {
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - MAX_END_SEARCH); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) return i;
  }
  return -1;
}
