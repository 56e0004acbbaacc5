import { Controller, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Role } from '@dustwatch/core';
import { ApiErrors } from './api-errors';
import { ApiKeyGuard } from './api-key.guard';
import { MinRole } from './min-role';

/**
 * A controller whose every route needs an API key: the guard, the OpenAPI security scheme and
 * error answers, and the least role (a handler's own @MinRole overrides it).
 */
export const KeyedController = (path: string, tag: string, minRole?: Role): ClassDecorator =>
  applyDecorators(
    ApiTags(tag),
    ApiSecurity('api-key'),
    ApiErrors(),
    UseGuards(ApiKeyGuard),
    ...(minRole ? [MinRole(minRole)] : []),
    Controller(path),
  );
