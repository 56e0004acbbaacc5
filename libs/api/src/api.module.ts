import { EvidenceController } from './evidence.controller';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AlertsController } from './alerts.controller';
import { BrokerHooksController } from './broker-hooks.controller';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysController } from './api-keys.controller';
import { HttpExceptionFilter } from './http-exception.filter';
import { HealthDetailsController, ObservabilityController } from './observability.controller';
import { QuarantineController } from './quarantine.controller';
import { RegistryController } from './registry.controller';
import { ReportsController } from './reports.controller';
import { FleetController } from './fleet.controller';
import { SessionController, UsersController } from './people.controller';

/** The HTTP edge: thin controllers over the core's services; domain errors mapped to statuses in one filter. */
@Module({
  controllers: [
    RegistryController,
    QuarantineController,
    AlertsController,
    ApiKeysController,
    ObservabilityController,
    HealthDetailsController,
    ReportsController,
    SessionController,
    UsersController,
    FleetController,
    BrokerHooksController,
    EvidenceController,
  ],
  providers: [ApiKeyGuard, { provide: APP_FILTER, useClass: HttpExceptionFilter }],
})
export class ApiModule {}
