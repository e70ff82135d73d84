import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyStore } from './api-key-store.js';

@Module({
  imports: [RateLimitModule],
  providers: [ApiKeyStore, { provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AuthModule {}
