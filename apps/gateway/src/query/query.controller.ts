import { BadRequestException, Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scope } from '#libs/contracts';
import type { AuthenticatedKey } from '../auth/authenticated-key.js';
import { CurrentKey } from '../auth/current-key.decorator.js';
import {
  MAX_QUERY_LENGTH,
  QUERY_REQUEST_SCHEMA,
  QueryRequestDto,
  QueryResponseDto,
  type QueryRequestBody,
} from './query.dto.js';
import { RequireScope } from '../auth/require-scope.js';
import { JSON_CONTENT_TYPE, queryResponseJson, tookMs } from './query-response.js';
import { QueryService } from './query.service.js';

@ApiTags('query')
@ApiBearerAuth()
@Controller('query')
export class QueryController {
  constructor(private readonly queries: QueryService) {}

  @Post()
  @RequireScope(Scope.Query, { beforeBody: true })
  @HttpCode(200)
  @RouteSchema({ body: QUERY_REQUEST_SCHEMA })
  @ApiBody({ type: QueryRequestDto })
  @ApiOkResponse({
    type: QueryResponseDto,
    description:
      "The answer and its sources (the key's tenant's documents only), from the cache or a query worker",
    headers: {
      'X-Cache': {
        description: 'HIT when answered from the cache, else MISS',
        schema: { enum: ['HIT', 'MISS'] },
      },
    },
  })
  @ApiBadRequestResponse({ description: 'The message names the offending field' })
  @ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key' })
  @ApiForbiddenResponse({ description: `The API key lacks the "${Scope.Query}" scope` })
  @ApiServiceUnavailableResponse({ description: 'Overloaded or the queue is unavailable; see Retry-After' })
  @ApiGatewayTimeoutResponse({ description: 'No query worker answered within QUERY_TIMEOUT_MS' })
  async query(
    // An interface, not a class: the global ValidationPipe leaves it to the route schema.
    @Body() body: QueryRequestBody,
    @CurrentKey() key: AuthenticatedKey,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const query = body.query.trim();
    if (query.length === 0 || query.length > MAX_QUERY_LENGTH) {
      throw new BadRequestException(`query: must be 1 to ${MAX_QUERY_LENGTH} characters after trimming`);
    }
    const { members, cached } = await this.queries.answer(
      key.tenant,
      query,
      body.top_k,
      body.collection ?? null,
      request.id,
    );
    // The body is QueryResponseDto, written as text around the cached answer's JSON.
    void reply.header('x-cache', cached ? 'HIT' : 'MISS').type(JSON_CONTENT_TYPE);
    return queryResponseJson(query, members, cached, tookMs(reply));
  }
}
