import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Role, roleAllows } from '@dustwatch/core';
import type { AuthenticatedRequest } from './http-edge';
import { MIN_ROLE } from './min-role';

/**
 * Every /api route needs a key whose role is at least the route's @MinRole (admin when unset).
 * The key was resolved before the body was read (http-edge.ts); here: 401 when there is no
 * principal, 403 when its role is too low.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needed =
      this.reflector.getAllAndOverride<Role | undefined>(MIN_ROLE, [context.getHandler(), context.getClass()]) ??
      'admin';
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal)
      throw new UnauthorizedException('sign in, or send an API key as x-api-key or Authorization: Bearer');
    if (!roleAllows(principal.role, needed))
      throw new ForbiddenException(
        `this needs the ${needed} role; key "${principal.name}" has the ${principal.role} role`,
      );
    return true;
  }
}
