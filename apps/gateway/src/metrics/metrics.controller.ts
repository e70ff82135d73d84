import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Controller,
  Get,
  Headers,
  Inject,
  Logger,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { prometheusContentType } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { Public } from '../auth/public.decorator.js';
import { MetricsSource } from './metrics-source.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  private readonly logger = new Logger(MetricsController.name);
  /** Digest of `Bearer <METRICS_TOKEN>`: equal lengths let the comparison run in constant time. */
  private readonly expected: Buffer | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly source: MetricsSource,
  ) {
    this.expected = config.METRICS_TOKEN === undefined ? undefined : digest(`Bearer ${config.METRICS_TOKEN}`);
  }

  /** Scrapers carry METRICS_TOKEN, not an API key. */
  @Public()
  @Get()
  @ApiProduces(prometheusContentType)
  @ApiOkResponse({ description: 'Prometheus text format, aggregated over all gateway processes' })
  @ApiUnauthorizedResponse({ description: 'METRICS_TOKEN is set and the request does not carry it' })
  async metrics(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.expected !== undefined && !timingSafeEqual(digest(authorization ?? ''), this.expected)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new UnauthorizedException('metrics require the METRICS_TOKEN bearer token');
    }
    let body: string;
    try {
      body = await this.source.render();
    } catch (error) {
      // The cause (a cluster worker not answering) is for operators, not for the scraper's body.
      this.logger.warn(`metrics unavailable: ${(error as Error).message}`);
      throw new ServiceUnavailableException('metrics unavailable; try again');
    }
    void reply.header('content-type', prometheusContentType);
    return body;
  }
}
