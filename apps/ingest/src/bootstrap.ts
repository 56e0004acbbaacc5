import 'reflect-metadata';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { RuleSet } from '@dustwatch/rules';
import { AppModule } from './app.module';
import { loadRuleFile } from './config/rules-file';
import { IngestConfig } from './config/config';
import { Clock, systemClock } from './core/tokens';
import { HttpExceptionFilter } from './core/http-exception.filter';
import { JsonLogger } from './observability/json-logger';
import { DeviceBroker } from './broker/device-broker';
import { IngestMetrics } from './observability/metrics';

export interface RunningService {
  readonly app: INestApplication;
  readonly httpPort: number;
  readonly mqttPort: number;
  close(): Promise<void>;
}

/** Builds and starts the service; used by main.ts and by the integration tests alike. */
export async function startService(config: IngestConfig, options: { clock?: Clock; logger?: JsonLogger; ruleSet?: RuleSet } = {}): Promise<RunningService> {
  const logger = options.logger ?? new JsonLogger(config.logFormat, config.logLevel);
  const ruleSet = options.ruleSet ?? loadRuleFile(config.rulesFile);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger, options.clock ?? systemClock, ruleSet), { logger, bodyParser: false });
  // A whole city's fleet document is larger than Express's 100 kB default.
  app.useBodyParser('json', { limit: '20mb' });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new HttpExceptionFilter(logger.forContext('Http'), app.get(IngestMetrics)));
  app.enableShutdownHooks();
  const openapi = new DocumentBuilder()
    .setTitle('Dustwatch ingest')
    .setDescription('API of the Dustwatch service. Admin: sites, devices, secrets, fleet import, quarantine, API keys. Inspectors: alerts (list, history, evidence, acknowledge, close out), the live alert stream (SSE) and notification deliveries. Every route needs an API key (x-api-key); roles: admin > inspector > viewer. Devices publish over MQTT (see docs/reading-contract-v1.md).')
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openapi));
  await app.listen(config.httpPort, config.httpHost);
  const address = app.getHttpServer().address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  const mqttPort = app.get(DeviceBroker).port ?? config.mqttPort;
  return { app, httpPort, mqttPort, close: () => app.close() };
}
