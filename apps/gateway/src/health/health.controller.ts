import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { CheckResult } from '#libs/observability';
import { Public } from '../auth/public.decorator.js';
import { HealthSnapshot, type HealthChecks, type HealthReport } from './health-snapshot.js';

class CheckResultDoc implements CheckResult {
  @ApiProperty()
  ok!: boolean;
  @ApiPropertyOptional({ description: 'Why the check failed' })
  error?: string;
  [detail: string]: unknown;
}

class HealthChecksDoc implements HealthChecks {
  @ApiProperty({ description: 'SELECT 1 on the pool; latency_ms' })
  database!: CheckResultDoc;
  @ApiProperty({ description: 'PING; latency_ms' })
  redis!: CheckResultDoc;
  @ApiProperty({ description: 'rss_bytes, heap_used_bytes, heap_limit_bytes' })
  memory!: CheckResultDoc;
  @ApiProperty({ description: 'Job counts per queue and state' })
  queues!: CheckResultDoc;
}

class HealthReportDoc implements HealthReport {
  @ApiProperty({ enum: ['healthy', 'unhealthy'] })
  status!: 'healthy' | 'unhealthy';
  @ApiProperty({ type: HealthChecksDoc })
  checks!: HealthChecksDoc;
  @ApiProperty({ description: 'When the checks ran (unix seconds); at most about 2 s ago' })
  timestamp!: number;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly snapshot: HealthSnapshot) {}

  /** Returns the background snapshot: probes under load never reach Postgres or Redis. */
  @Public()
  @Get()
  @ApiOkResponse({ type: HealthReportDoc, description: 'Postgres and Redis answer' })
  @ApiServiceUnavailableResponse({ type: HealthReportDoc, description: 'Postgres or Redis does not answer' })
  health(@Res({ passthrough: true }) reply: FastifyReply): HealthReport {
    const report = this.snapshot.current;
    void reply.status(report.status === 'healthy' ? 200 : 503);
    return report;
  }
}
