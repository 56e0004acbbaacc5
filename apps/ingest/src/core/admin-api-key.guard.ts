import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { CONFIG } from './tokens';
import { IngestConfig } from '../config/config';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Admin endpoints need the admin API key, as `x-api-key` or `Authorization: Bearer <key>`. */
@Injectable()
export class AdminApiKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(CONFIG) config: IngestConfig) {
    this.expected = digest(config.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers['x-api-key'];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = typeof header === 'string' ? header : bearer;
    if (!key) throw new UnauthorizedException('admin API key required: send it as x-api-key or Authorization: Bearer');
    // Compare digests in constant time, so neither length nor content leaks through timing.
    if (!timingSafeEqual(digest(key), this.expected)) throw new UnauthorizedException('invalid API key');
    return true;
  }
}
