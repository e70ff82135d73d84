import { Module } from '@nestjs/common';
import { RateLimitService } from './rate-limit.service.js';

/** Used by the auth guard, which knows who is asking; health and metrics are public and never limited (probes). */
@Module({ providers: [RateLimitService], exports: [RateLimitService] })
export class RateLimitModule {}
