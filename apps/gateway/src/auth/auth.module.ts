import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyStore } from './api-key-store.js';

@Module({
  imports: [RateLimitModule],
  // useExisting: the app also hands the guard to the early-authentication hook (gateway.app.ts).
  providers: [ApiKeyStore, ApiKeyGuard, { provide: APP_GUARD, useExisting: ApiKeyGuard }],
  exports: [ApiKeyGuard],
})
export class AuthModule {}
