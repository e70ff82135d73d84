export interface ChunkOptions {
  /** Largest chunk, in characters (CHUNK_SIZE). */
  size: number;
  /** Characters a chunk repeats from the end of the previous one (CHUNK_OVERLAP), at most half a chunk. */
  overlap: number;
}

export interface TextChunk {
  /** Always `text.slice(start, end)`. */
  content: string;
  start: number;
  end: number;
}

/** Where one piece of text may end and the next begin; ranked by how natural a cut there is. */
const enum BoundaryKind {
  Line = 1,
  Sentence = 2,
  Paragraph = 3,
}

interface Boundary {
  kind: BoundaryKind;
  /** The piece before ends here (exclusive)... */
  cut: number;
  /** ...and the next piece starts here, after the whitespace. */
  next: number;
}

/**
 * A sentence ends at terminal punctuation (plus closing quotes or brackets) followed by whitespace
 * and a capital, digit or opening quote — so "e.g. the" does not end one. Any newline also separates
 * pieces: a blank line is a paragraph break, a single one a line break (PDFs wrap lines mid-sentence,
 * which is why a line break ranks below a sentence end).
 */
const BOUNDARY = /(?<end>[.!?…]+["'»”’)\]]*)\s+(?=[\p{Lu}\p{Lt}\p{N}"'«“„([])|\n\s*/gu;
/** How far past a window the boundary pattern may need to look (whitespace and the next character). */
const LOOKAHEAD = 16;

/**
 * Splits text into chunks of at most `size` characters with up to `overlap` characters of overlap.
 * Cuts at the last paragraph break in the second half of the window, else the last sentence end,
 * else the last line break, else the last space; only a word longer than a chunk is cut mid-word.
 * Each next chunk starts at the earliest sentence (else line, else word) start inside the overlap,
 * so overlaps are whole sentences or words too. Whitespace never starts or ends a chunk.
 */
export function chunkText(text: string, options: ChunkOptions): TextChunk[] {
  const size = Math.max(2, Math.floor(options.size));
  const chunks: TextChunk[] = [];
  let start = skipSpace(text, 0);
  while (start < text.length) {
    const end = text.length - start <= size ? text.length : findCut(text, start, size);
    const trimmedEnd = trimEnd(text, start, end);
    chunks.push({ content: text.slice(start, trimmedEnd), start, end: trimmedEnd });
    if (end >= text.length) break;
    start = skipSpace(text, nextStart(text, start, end, options.overlap));
  }
  return chunks;
}

function findCut(text: string, start: number, size: number): number {
  const limit = start + size;
  const minCut = start + Math.floor(size / 2);
  let best: Boundary | undefined;
  for (const boundary of boundaries(text, minCut, limit)) {
    if (boundary.cut < minCut || boundary.cut > limit) continue;
    // Later boundaries of the same or a better kind win: fuller chunks, nicer cuts.
    if (best === undefined || boundary.kind >= best.kind) best = boundary;
  }
  if (best !== undefined) return best.cut;
  const space = lastSpace(text, start + Math.floor(size / 4), limit);
  if (space !== -1) return space;
  // A "word" longer than a chunk (a URL, base64, a table without spaces): cut it, but never mid-character.
  return isHighSurrogate(text.charCodeAt(limit - 1)) ? limit - 1 : limit;
}

function nextStart(text: string, start: number, end: number, overlap: number): number {
  // Each chunk advances by at least half its length, so a large overlap cannot make the chunk count explode.
  const from = Math.max(end - overlap, start + Math.ceil((end - start) / 2));
  if (overlap <= 0 || from >= end) return end;
  let line: number | undefined;
  for (const boundary of boundaries(text, from - LOOKAHEAD, end)) {
    if (boundary.next < from || boundary.next >= end) continue;
    if (boundary.kind !== BoundaryKind.Line) return boundary.next;
    line ??= boundary.next;
  }
  if (line !== undefined) return line;
  const word = firstWordStart(text, from, end);
  return word === -1 ? end : word;
}

function* boundaries(text: string, from: number, to: number): Generator<Boundary> {
  const offset = Math.max(0, from);
  const window = text.slice(offset, to + LOOKAHEAD);
  for (const match of window.matchAll(BOUNDARY)) {
    const index = offset + match.index;
    const sentenceEnd = match.groups?.end;
    const whitespace = sentenceEnd === undefined ? match[0] : match[0].slice(sentenceEnd.length);
    const kind = whitespace.includes('\n\n')
      ? BoundaryKind.Paragraph
      : sentenceEnd !== undefined
        ? BoundaryKind.Sentence
        : BoundaryKind.Line;
    yield { kind, cut: index + (sentenceEnd?.length ?? 0), next: index + match[0].length };
  }
}

function lastSpace(text: string, from: number, to: number): number {
  for (let i = to; i > from; i--) if (isSpace(text.charCodeAt(i))) return i;
  return -1;
}

function firstWordStart(text: string, from: number, to: number): number {
  for (let i = Math.max(from, 1); i < to; i++) {
    if (!isSpace(text.charCodeAt(i)) && isSpace(text.charCodeAt(i - 1))) return i;
  }
  return -1;
}

function skipSpace(text: string, position: number): number {
  let i = position;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function trimEnd(text: string, start: number, end: number): number {
  let i = end;
  while (i > start && isSpace(text.charCodeAt(i - 1))) i--;
  return i;
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
