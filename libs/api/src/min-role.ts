import { SetMetadata } from '@nestjs/common';
import { Role } from '@dustwatch/core';

export const MIN_ROLE = 'dustwatch:min-role';
/** The least role a handler (or every handler of a controller) needs. */
export const MinRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(MIN_ROLE, role);
