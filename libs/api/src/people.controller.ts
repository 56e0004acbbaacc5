import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  Param,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import type { Response } from 'express';
import { parse, serialize } from 'cookie';
import {
  IsPlainText,
  LoginRefused,
  MIN_PASSWORD_LENGTH,
  PeopleService,
  Person,
  ROLES,
  Role,
  SESSION_HOURS,
} from '@dustwatch/core';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { ApiKeyGuard } from './api-key.guard';
import { AuthenticatedRequest, SESSION_COOKIE, apiKeyOf } from './http-edge';
import { KeyedController } from './keyed-controller';
import { MinRole } from './min-role';
import { ApiErrors } from './api-errors';

export class LoginDto {
  @ApiProperty({ example: 'wang' }) @IsString() @MaxLength(64) name!: string;
  @ApiProperty() @IsString() @MaxLength(256) password!: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'wang' })
  @Matches(ID_PATTERN, { message: 'name must match ' + ID_PATTERN.source })
  name!: string;
  @ApiPropertyOptional({ example: '王工' })
  @IsOptional()
  @IsString()
  @IsPlainText()
  @Length(1, 64)
  displayName?: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES as unknown as string[]) role!: Role;
  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH }) @IsString() @Length(MIN_PASSWORD_LENGTH, 256) password!: string;
}

export class SetPasswordDto {
  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH }) @IsString() @Length(MIN_PASSWORD_LENGTH, 256) password!: string;
}

export class PersonResponse {
  @ApiProperty() name!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ description: 'epoch ms' }) createdAt!: number;
  @ApiProperty({ nullable: true, type: Number }) disabledAt!: number | null;
}

export class SessionResponse {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiPropertyOptional({
    description:
      'Send it back as X-CSRF-Token on every request that changes something (at sign-in, and from GET /api/session for a signed-in cookie: any tab fetches it on load)',
  })
  csrfToken?: string;
  @ApiPropertyOptional({ description: 'epoch ms (at sign-in)' }) expiresAt?: number;
}

/**
 * People sign in with a name and password: the session is an httpOnly, SameSite=Strict cookie;
 * the CSRF token comes back in the body for the page to keep. POST /api/session is the one /api
 * route that takes no credentials (http-edge lets it through; PeopleService throttles it).
 */
@ApiTags('session')
@ApiErrors()
@Controller('api')
export class SessionController {
  constructor(@Inject(PeopleService) private readonly people: PeopleService) {}

  @Post('session')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with a name and password: sets the session cookie, returns the CSRF token' })
  @ApiOkResponse({ type: SessionResponse })
  async login(
    @Body() dto: LoginDto,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionResponse> {
    try {
      const session = await this.people.login(dto.name, dto.password, req.socket.remoteAddress ?? 'unknown');
      res.setHeader(
        'Set-Cookie',
        serialize(SESSION_COOKIE, session.token, {
          httpOnly: true,
          sameSite: 'strict',
          secure: req.secure,
          path: '/',
          maxAge: SESSION_HOURS * 3600,
        }),
      );
      return {
        name: session.person.name,
        role: session.person.role,
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt,
      };
    } catch (error) {
      if (!(error instanceof LoginRefused)) throw error;
      if (error.retryAfterMs > 0) {
        res.setHeader('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)));
        throw new HttpException(error.message, HttpStatus.TOO_MANY_REQUESTS);
      }
      throw new UnauthorizedException(error.message);
    }
  }

  @Get('session')
  @UseGuards(ApiKeyGuard)
  @MinRole('viewer')
  @ApiOperation({ summary: 'Who is signed in (or whose key this is)' })
  @ApiOkResponse({ type: SessionResponse })
  whoAmI(@Req() req: AuthenticatedRequest): SessionResponse {
    const token = parse(req.headers.cookie ?? '')[SESSION_COOKIE];
    const me = { name: req.principal!.name, role: req.principal!.role };
    // A key's holder has no CSRF token; a signed-in tab gets its session's.
    return token && apiKeyOf(req) === undefined ? { ...me, csrfToken: this.people.csrfTokenOf(token) } : me;
  }

  @Delete('session')
  @UseGuards(ApiKeyGuard)
  @MinRole('viewer')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: ends the session and clears the cookie' })
  @ApiNoContentResponse({ description: 'Signed out' })
  async logout(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Response): Promise<void> {
    const token = parse(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (token) await this.people.logout(token);
    res.setHeader(
      'Set-Cookie',
      serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0 }),
    );
  }
}

/** People's accounts: admins create them with a role, reset a password (which ends the person's sessions), disable them. */
@KeyedController('api/users', 'admin', 'admin')
export class UsersController {
  constructor(@Inject(PeopleService) private readonly people: PeopleService) {}

  @Get()
  @ApiOperation({ summary: "People's accounts" })
  @ApiOkResponse({ type: [PersonResponse] })
  list(): Promise<Person[]> {
    return this.people.listUsers();
  }

  @Post()
  @ApiOperation({ summary: 'Create an account (admin, inspector or viewer) with its first password' })
  @ApiCreatedResponse({ type: PersonResponse })
  create(@Body() dto: CreateUserDto): Promise<Person> {
    return this.people.createUser(dto.name, dto.role, dto.password, dto.displayName);
  }

  @Post(':name/password')
  @HttpCode(204)
  @ApiOperation({ summary: "Set a person's password; their sessions end" })
  @ApiNoContentResponse({ description: 'Set' })
  setPassword(@Param('name') name: string, @Body() dto: SetPasswordDto): Promise<void> {
    return this.people.setPassword(name, dto.password);
  }

  @Post(':name/disable')
  @HttpCode(204)
  @ApiOperation({ summary: 'Disable an account; its sessions end' })
  @ApiNoContentResponse({ description: 'Disabled' })
  disable(@Param('name') name: string): Promise<void> {
    return this.people.setDisabled(name, true);
  }

  @Post(':name/enable')
  @HttpCode(204)
  @ApiOperation({ summary: 'Enable an account again' })
  @ApiNoContentResponse({ description: 'Enabled' })
  enable(@Param('name') name: string): Promise<void> {
    return this.people.setDisabled(name, false);
  }
}
