/** A question split into what ranks it and what filters it. */
export interface ParsedQuestion {
  /** The question as cached and logged: Unicode-normalised, single-spaced, trimmed. */
  normalized: string;
  /** Words that rank chunks (ORed): the plain words and the words of quoted phrases. */
  text: string;
  /** "Quoted phrases": a chunk must contain each one. */
  phrases: string[];
  /** -excluded words: chunks containing any of them are left out. */
  excludes: string[];
}

const QUOTED = /["“”„«»]([^"“”„«»]+)["“”„«»]/gu;
// A minus that starts a word ("-mysql"), not one inside it ("e-mail") or standing alone.
const EXCLUDED = /(^|\s)-([\p{L}\p{N}][\p{L}\p{N}_'’-]*)/gu;

export function normalizeQuestion(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/[\p{Cc}\p{Cf}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Reads the web-search operators a user may type. Everything else is plain words, which the
 * retriever ORs: natural-language questions rarely have every word in the passage that answers them.
 */
export function parseQuestion(raw: string): ParsedQuestion {
  const normalized = normalizeQuestion(raw);
  const phrases: string[] = [];
  let rest = normalized.replace(QUOTED, (_match, phrase: string) => {
    const trimmed = phrase.trim();
    if (trimmed !== '') phrases.push(trimmed);
    return ' ';
  });
  const excludes: string[] = [];
  rest = rest.replace(EXCLUDED, (_match, before: string, word: string) => {
    excludes.push(word);
    return before;
  });
  const text = [rest, ...phrases].join(' ').replace(/\s+/gu, ' ').trim();
  return { normalized, text, phrases, excludes };
}
