import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse } from './responses';

/** The error answers every keyed route can give, with their one body shape. */
export const ApiErrors = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid input; `problems` lists every one' }),
    ApiUnauthorizedResponse({ type: ErrorResponse, description: 'No API key, or an unknown or revoked one' }),
    ApiForbiddenResponse({ type: ErrorResponse, description: 'The key’s role is too low for this route' }),
  );
