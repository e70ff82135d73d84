import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkText, type TextChunk } from './chunker.js';

const sentence = (n: number) => `Sentence number ${n} talks about password resets and account safety.`;

/** The properties every chunking must have, whatever the input. */
function assertWellFormed(text: string, chunks: TextChunk[], size: number): void {
  assert.ok(chunks.length > 0, 'no chunks');
  let coveredUpTo = 0;
  for (const [index, chunk] of chunks.entries()) {
    assert.equal(
      chunk.content,
      text.slice(chunk.start, chunk.end),
      `chunk ${index} content is not its slice`,
    );
    assert.ok(
      chunk.content.length <= size,
      `chunk ${index} has ${chunk.content.length} > ${size} characters`,
    );
    assert.equal(chunk.content, chunk.content.trim(), `chunk ${index} starts or ends with whitespace`);
    assert.ok(chunk.content.length > 0, `chunk ${index} is empty`);
    if (index > 0) assert.ok(chunk.start > chunks[index - 1].start, `chunk ${index} does not advance`);
    // Everything between the chunks is whitespace: no text is lost.
    assert.equal(text.slice(coveredUpTo, chunk.start).trim(), '', `text lost before chunk ${index}`);
    coveredUpTo = Math.max(coveredUpTo, chunk.end);
  }
  assert.equal(text.slice(coveredUpTo).trim(), '', 'text lost at the end');
}

const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char);

describe('chunkText', () => {
  it('returns short text as one chunk with trimmed offsets', () => {
    const text = '\n  Hello world.  \n';
    assert.deepEqual(chunkText(text, { size: 100, overlap: 10 }), [
      { content: 'Hello world.', start: 3, end: 15 },
    ]);
  });

  it('returns nothing for empty or blank text', () => {
    assert.deepEqual(chunkText('', { size: 100, overlap: 10 }), []);
    assert.deepEqual(chunkText(' \n\n \t', { size: 100, overlap: 10 }), []);
  });

  it('cuts at paragraph breaks when a paragraph break falls in the second half of the window', () => {
    const paragraphs = Array.from({ length: 6 }, (_, p) =>
      [1, 2, 3].map((s) => sentence(p * 3 + s)).join(' '),
    );
    const text = paragraphs.join('\n\n');
    const chunks = chunkText(text, { size: 300, overlap: 0 });
    assertWellFormed(text, chunks, 300);
    // Each paragraph (~215 characters) fits, two do not: one chunk per paragraph.
    assert.deepEqual(
      chunks.map((chunk) => chunk.content),
      paragraphs,
    );
  });

  it('cuts a long paragraph at sentence ends, never inside a word', () => {
    const text = Array.from({ length: 40 }, (_, n) => sentence(n)).join(' ');
    const chunks = chunkText(text, { size: 250, overlap: 0 });
    assertWellFormed(text, chunks, 250);
    assert.ok(chunks.length > 5);
    for (const chunk of chunks) {
      assert.match(chunk.content, /^Sentence number \d+ .*\.$/s, `not whole sentences: ${chunk.content}`);
    }
  });

  it('overlaps consecutive chunks by whole sentences within CHUNK_OVERLAP', () => {
    const text = Array.from({ length: 40 }, (_, n) => sentence(n)).join(' ');
    const overlap = 150;
    const chunks = chunkText(text, { size: 400, overlap });
    assertWellFormed(text, chunks, 400);
    for (let i = 1; i < chunks.length; i++) {
      const shared = chunks[i - 1].end - chunks[i].start;
      assert.ok(shared > 0, `chunks ${i - 1} and ${i} do not overlap`);
      assert.ok(shared <= overlap, `overlap ${shared} > ${overlap}`);
      assert.match(chunks[i].content, /^Sentence number/);
    }
  });

  it('does not take "e.g. the" for the end of a sentence', () => {
    const text = `${'word '.repeat(30)}use a manager, e.g. the built-in one, and rotate often`;
    const chunks = chunkText(text, { size: 190, overlap: 0 });
    assertWellFormed(text, chunks, 190);
    assert.ok(!chunks.some((chunk) => chunk.content.endsWith('e.g.')));
  });

  it('splits one huge sentence at spaces, keeping words whole and overlapping by whole words', () => {
    const words = Array.from({ length: 600 }, (_, n) => `word${n}`);
    const text = words.join(' ');
    const chunks = chunkText(text, { size: 200, overlap: 40 });
    assertWellFormed(text, chunks, 200);
    for (const chunk of chunks) {
      assert.ok(!isWordChar(text[chunk.start - 1]), `chunk starts inside a word at ${chunk.start}`);
      assert.ok(!isWordChar(text[chunk.end]), `chunk ends inside a word at ${chunk.end}`);
    }
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i - 1].end - chunks[i].start <= 40);
  });

  it('cuts a word longer than a chunk, and only that word', () => {
    const blob = 'x'.repeat(1000);
    const text = `before ${blob} after`;
    const blobStart = text.indexOf('x');
    const blobEnd = blobStart + blob.length;
    const chunks = chunkText(text, { size: 300, overlap: 50 });
    assertWellFormed(text, chunks, 300);
    for (const chunk of chunks) {
      for (const cut of [chunk.start, chunk.end]) {
        const midWord = isWordChar(text[cut - 1]) && isWordChar(text[cut]);
        assert.ok(!midWord || (cut > blobStart && cut < blobEnd), `cut inside a word at ${cut}`);
      }
    }
    assert.equal(chunks.at(-1)?.content.endsWith('after'), true);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(500);
    const chunks = chunkText(text, { size: 101, overlap: 0 });
    assertWellFormed(text, chunks, 101);
    for (const chunk of chunks) assert.doesNotMatch(chunk.content, /^[\udc00-\udfff]|[\ud800-\udbff]$/);
  });

  it('prefers a sentence end over a line break inside a paragraph (PDF line wrapping)', () => {
    const text = `${'alpha beta gamma\n'.repeat(8)}End of the thought. ${'Delta epsilon zeta\n'.repeat(8)}`;
    const chunks = chunkText(text, { size: 200, overlap: 0 });
    assertWellFormed(text, chunks, 200);
    assert.ok(chunks[0].content.endsWith('End of the thought.'), chunks[0].content);
  });

  it('handles Russian text with its own capitals', () => {
    const text = Array.from({ length: 30 }, (_, n) => `Предложение номер ${n} о восстановлении пароля.`).join(
      ' ',
    );
    const chunks = chunkText(text, { size: 200, overlap: 60 });
    assertWellFormed(text, chunks, 200);
    for (const chunk of chunks) assert.match(chunk.content, /^Предложение номер \d+ .*\.$/s);
  });

  it('keeps advancing when the overlap is almost a whole chunk', () => {
    const text = Array.from({ length: 50 }, (_, n) => sentence(n)).join(' ');
    const chunks = chunkText(text, { size: 300, overlap: 290 });
    assertWellFormed(text, chunks, 300);
    assert.ok(chunks.length < 40, `${chunks.length} chunks for ${text.length} characters`);
  });

  it('chunks a large multi-paragraph text into well-formed chunks', () => {
    const paragraphs = Array.from({ length: 4_000 }, (_, p) =>
      Array.from({ length: 5 }, (_, s) => sentence(p * 5 + s)).join(' '),
    );
    const text = paragraphs.join('\n\n');
    const chunks = chunkText(text, { size: 1200, overlap: 200 });
    assertWellFormed(text, chunks, 1200);
  });
});
