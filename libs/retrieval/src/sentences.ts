export interface Sentence {
  text: string;
  /** Position in the passage, to keep the answer's sentences in reading order. */
  index: number;
}

// End punctuation, optional closing quotes/brackets, then whitespace before what looks like a new sentence.
const SENTENCE_END = /(?<=[.!?…][)"'»”’\]]*)\s+(?=[\p{Lu}\p{N}"'«“„([])/u;

/** Splits a passage into sentences; blank lines (paragraphs, headings, list items) always end one. */
export function splitSentences(passage: string): Sentence[] {
  const sentences: Sentence[] = [];
  for (const block of passage.split(/\n\s*\n|\r?\n(?=\s*(?:[-*•]|\d+[.)])\s)/u)) {
    for (const part of block.split(SENTENCE_END)) {
      const text = part.replace(/\s+/gu, ' ').trim();
      if (text !== '') sentences.push({ text, index: sentences.length });
    }
  }
  return sentences;
}
