import type { FastifyReply } from 'fastify';
import { storedAnswerJson, type CachedAnswer } from '#libs/answer-cache';

/** What Fastify sends for an object body; a body given as text must name it itself. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The members of a stored answer's JSON (`"answer":…,"sources":[…]`), as both cache levels keep
 * them: a hit is spliced into the response as text, never parsed and serialized again.
 */
export function answerMembers(value: CachedAnswer): string {
  return membersOf(storedAnswerJson(value));
}

/**
 * The members of an answer as Redis holds it (`storedAnswerJson`), or undefined when the text is
 * not an answer object.
 */
export function storedAnswerMembers(stored: string): string | undefined {
  return stored.startsWith('{"answer":') && stored.endsWith('}') ? membersOf(stored) : undefined;
}

/** The body of a 200 to POST /query, byte for byte what serializing QueryResponseDto gives. */
export function queryResponseJson(query: string, members: string, cached: boolean, tookMs: number): string {
  return `{"query":${JSON.stringify(query)},${members},"cached":${cached},"took_ms":${JSON.stringify(tookMs)}}`;
}

/** `took_ms`: the time since the request arrived, to 0.01 ms. */
export function tookMs(reply: FastifyReply): number {
  return Math.round(reply.elapsedTime * 100) / 100;
}

function membersOf(json: string): string {
  return json.slice(1, -1);
}
