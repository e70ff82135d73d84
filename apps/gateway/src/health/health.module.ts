import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { HealthSnapshot } from './health-snapshot.js';
import { LivenessController } from './liveness.controller.js';

@Module({ controllers: [LivenessController, HealthController], providers: [HealthSnapshot] })
export class HealthModule {}
