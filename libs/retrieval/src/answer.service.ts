import { Injectable } from '@nestjs/common';
import type { QuerySource } from '#libs/contracts';
import { SearchRepository } from '#libs/database';
import { composeAnswer, NO_MATCH_ANSWER, type SentenceCandidate } from './answer-composer.js';
import { Retriever, type RetrievalRequest } from './retriever.js';
import { splitSentences } from './sentences.js';

/** Sentences for the answer come from this many of the best chunks at most. */
const ANSWER_CHUNKS = 5;

export interface Answer {
  answer: string;
  sources: QuerySource[];
}

/** Rounded so that cached answers and logs stay short; ties beyond four decimals do not matter to anyone. */
export function roundScore(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}

/** Retrieves, then composes the extractive answer from the best chunks. */
@Injectable()
export class AnswerService {
  constructor(
    private readonly retriever: Retriever,
    private readonly search: SearchRepository,
  ) {}

  async answer(request: RetrievalRequest): Promise<Answer> {
    const { hits, idf } = await this.retriever.retrieve(request);
    if (hits.length === 0) return { answer: NO_MATCH_ANSWER, sources: [] };

    const passages = hits.slice(0, ANSWER_CHUNKS).map((hit, chunkRank) => ({
      chunkRank,
      config: hit.language,
      sentences: splitSentences(hit.content),
    }));
    const texts = passages.flatMap((passage) =>
      passage.sentences.map((sentence) => ({ text: sentence.text, config: passage.config })),
    );
    const lexemes = await this.search.lexemesOf(texts);
    let next = 0;
    const candidates: SentenceCandidate[] = passages.flatMap((passage) =>
      passage.sentences.map((sentence) => ({
        chunkRank: passage.chunkRank,
        index: sentence.index,
        text: sentence.text,
        matched: new Set(lexemes[next++].filter((lexeme) => idf.has(lexeme))),
      })),
    );

    return {
      answer: composeAnswer(candidates, idf),
      sources: hits.map((hit) => ({
        document_id: hit.documentId,
        chunk_id: hit.chunkId,
        title: hit.title,
        snippet: hit.snippet,
        score: roundScore(hit.score),
      })),
    };
  }
}
