import { Injectable } from '@nestjs/common';
import { RedisKey, type TenantId } from '#libs/contracts';
import { RedisClient } from '#libs/redis';
import type { QueryRequest } from './query-key.js';

/** Questions remembered per tenant, most recent first; older ones are forgotten past this. */
const MAX_REMEMBERED = 10_000;
/** A tenant that stops asking is forgotten after a day. */
const REMEMBER_S = 86_400;

/**
 * Records that a question was asked under a version, once per process and version (on a miss
 * of the process's memory). A question asked again under a newer version than the one it was
 * last asked under is *hot*: it is asked across versions, so its answer is worth computing ahead
 * of the next one. A question asked once (a long tail of unique questions) never becomes hot.
 * KEYS: asked, hot (sorted sets, member → the last version); ARGV: version, member, cap, ttl s.
 */
const NOTE_SCRIPT = `
local version = tonumber(ARGV[1])
local last = redis.call('ZSCORE', KEYS[1], ARGV[2])
if last and tonumber(last) >= version then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if last then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2]) end
for _, key in ipairs(KEYS) do
  local excess = redis.call('ZCARD', key) - tonumber(ARGV[3])
  if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 0, excess - 1) end
  redis.call('EXPIRE', key, ARGV[4])
end
return 1`;

interface NoteCommand {
  noteQuestion(
    asked: string,
    hot: string,
    version: number,
    member: string,
    cap: number,
    ttlS: number,
  ): Promise<number>;
}

/**
 * Which questions each tenant keeps asking as its corpus version moves (ADR 0031): gateways note
 * the questions they could not answer from memory, and the ingest worker's publisher computes
 * the hottest ones under a new version before it announces that version.
 */
@Injectable()
export class AnswerDemand {
  private readonly redis: RedisClient & NoteCommand;

  constructor(redis: RedisClient) {
    // A gateway notes on every miss of its memory: EVALSHA sends the script's hash, not its text.
    redis.defineCommand('noteQuestion', { numberOfKeys: 2, lua: NOTE_SCRIPT });
    this.redis = redis as RedisClient & NoteCommand;
  }

  /** `request.query` must be normalised (query-key.ts). */
  async note(tenant: TenantId, version: number, request: QueryRequest): Promise<void> {
    await this.redis.noteQuestion(
      RedisKey.AskedQuestions(tenant),
      RedisKey.HotQuestions(tenant),
      version,
      JSON.stringify([request.query, request.topK, request.collection]),
      MAX_REMEMBERED,
      REMEMBER_S,
    );
  }

  /** Up to `limit` hot questions last asked under `sinceVersion` or later, the most recent first. */
  async hottest(tenant: TenantId, sinceVersion: number, limit: number): Promise<QueryRequest[]> {
    const members = await this.redis.zrevrangebyscore(
      RedisKey.HotQuestions(tenant),
      '+inf',
      sinceVersion,
      'LIMIT',
      0,
      limit,
    );
    return members.map((member) => {
      const [query, topK, collection] = JSON.parse(member) as [string, number, string | null];
      return { query, topK, collection };
    });
  }
}
