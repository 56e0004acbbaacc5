import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyAuthenticator, Principal, Role, roleAllows } from '@dustwatch/core';
import { MIN_ROLE } from './min-role';

export type AuthenticatedRequest = Request & { principal?: Principal };

/** The key from `x-api-key` or `Authorization: Bearer <key>` (EventSource clients may use `?apiKey=` for the SSE stream only). */
export function apiKeyOf(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Every /api route needs a key whose role is at least the route's @MinRole (admin when unset).
 * 401 = no or unknown key, 403 = a valid key whose role is too low.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeyAuthenticator) private readonly authenticator: ApiKeyAuthenticator,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needed =
      this.reflector.getAllAndOverride<Role | undefined>(MIN_ROLE, [context.getHandler(), context.getClass()]) ??
      'admin';
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const fromQuery =
      needed === 'viewer' && typeof req.query['apiKey'] === 'string' && req.path.endsWith('/stream')
        ? req.query['apiKey']
        : undefined;
    const key = apiKeyOf(req) ?? fromQuery;
    if (!key) throw new UnauthorizedException('API key required: send it as x-api-key or Authorization: Bearer');
    const principal = await this.authenticator.principalOf(key);
    if (!principal) throw new UnauthorizedException('invalid or revoked API key');
    if (!roleAllows(principal.role, needed))
      throw new ForbiddenException(
        `this needs the ${needed} role; key "${principal.name}" has the ${principal.role} role`,
      );
    req.principal = principal;
    return true;
  }
}
