import 'reflect-metadata';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { RuleSet } from '@dustwatch/rules';
import {
  ApiKeyAuthenticator,
  Clock,
  DeviceEdge,
  IngestConfig,
  IngestMetrics,
  Scheduler,
  StreamTokens,
  systemClock,
  systemScheduler,
  PeopleService,
} from '@dustwatch/core';
import { installHttpEdge } from '@dustwatch/api';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { static as staticFiles } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { MQTT_EDGE } from '@dustwatch/edge-mqtt';
import { AppModule } from './app.module';
import { loadRuleFile } from './config/rules-file';
import { fitDescriptors, setExplicitly } from './descriptors';
import { createRootLogger, loggerFactory } from './logging';

export interface RunningService {
  readonly app: INestApplication;
  readonly httpPort: number;
  readonly mqttPort: number;
  close(): Promise<void>;
}

export interface ServiceOptions {
  clock?: Clock;
  scheduler?: Scheduler;
  ruleSet?: RuleSet;
  /** Receives every log line (tests); stdout otherwise. */
  logSink?: (line: string) => void;
}

/** Paths the console's page never answers: the API, the probes, the metrics. */
const NOT_CONSOLE = /^\/(api|health|metrics)(\/|$)/i;

/**
 * The inspectors' console (apps/console, built to static files) at `/`, same origin as /api: a
 * file when there is one, else its page for any other GET a browser makes (the console routes
 * itself). Without a build, `/` says how to make one.
 */
function serveConsole(app: NestExpressApplication, dir: string): void {
  const root = resolve(dir);
  const page = join(root, 'index.html');
  app.use(staticFiles(root, { index: false, fallthrough: true }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' || NOT_CONSOLE.test(req.path) || !req.accepts('html')) return next();
    if (!existsSync(page))
      return void res.status(404).type('text').send(`the console is not built (${page} is missing): npm run build`);
    res.sendFile(page);
  });
}

/** Builds and starts the service; used by main.ts and by the integration tests alike. */
export async function startService(configured: IngestConfig, options: ServiceOptions = {}): Promise<RunningService> {
  const { config, plan, raisedFrom } = fitDescriptors(configured);
  const root = createRootLogger(config, options.logSink);
  const ruleSet = options.ruleSet ?? loadRuleFile(config.rulesFile);
  const kernel = {
    config,
    clock: options.clock ?? systemClock,
    scheduler: options.scheduler ?? systemScheduler,
    logger: loggerFactory(root),
    ruleSet,
  };
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(kernel, root), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(NestPinoLogger));
  installHttpEdge(app, {
    apiKeys: app.get(ApiKeyAuthenticator),
    streamTokens: app.get(StreamTokens),
    people: app.get(PeopleService),
    metrics: app.get(IngestMetrics),
    clock: kernel.clock,
    brokerHookSecret: config.mqttBrokerHookSecret,
  });
  serveConsole(app, config.consoleDir);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.enableShutdownHooks();
  const openapi = new DocumentBuilder()
    .setTitle('Dustwatch ingest')
    .setDescription(
      "API of the Dustwatch service. Admin: sites, devices, secrets, fleet import, quarantine, API keys. Inspectors: alerts (list, history, evidence, acknowledge, close out), the live alert stream (SSE) and notification deliveries. Every /api route needs credentials — a person's session (POST /api/session; changes also send X-CSRF-Token) or an API key (x-api-key) — checked before the body is read; bodies are limited to 64 KiB (20 MiB for an admin's fleet import). Roles: admin > inspector > viewer. Devices publish over MQTT (see docs/reading-contract-v1.md).",
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openapi));
  const main = kernel.logger.forContext('Main');
  if (plan) {
    main.log('file descriptors planned', {
      openFileLimit: plan.limit,
      ...(raisedFrom !== undefined ? { raisedFrom } : {}),
      reserved: plan.reserved,
      ...plan.caps,
      ...(plan.lowered.length > 0 ? { lowered: plan.lowered } : {}),
    });
    // A default cap fitted to the limit is the plan working; a cap someone set and did not get is worth a warning.
    const notGranted = plan.lowered.filter((line) => setExplicitly(configured, line.split(' ')[0]));
    if (notGranted.length > 0)
      main.warn(
        'connection caps lowered to fit the open-file limit (raise it: ulimit -n, or LimitNOFILE= for systemd)',
        { lowered: notGranted },
      );
  }
  // A connection past the cap is refused at accept, so a flood cannot take the descriptors the rest needs.
  app.getHttpServer().maxConnections = config.httpMaxConnections;
  await app.listen(config.httpPort, config.httpHost);
  const address = app.getHttpServer().address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  const mqttPort = app.get<DeviceEdge>(MQTT_EDGE).port ?? config.mqttPort;
  main.log('dustwatch ingest started', { httpPort, mqttPort });
  return { app, httpPort, mqttPort, close: () => app.close() };
}
