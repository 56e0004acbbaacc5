import { Body, Controller, HttpCode, Inject, NotFoundException, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { BrokerHooks, BrokerVerdict } from '@dustwatch/core';

/** EMQX 5's HTTP authenticator body (docs/cluster.md gives the EMQX settings that send it). */
export class EmqxAuthnRequest {
  @IsString() @MaxLength(256) clientid!: string;
  @IsString() @MaxLength(256) username!: string;
  @IsString() @MaxLength(1024) password!: string;
  @IsOptional() @IsString() @MaxLength(64) peerhost?: string;
}

/** EMQX 5's HTTP authoriser body. */
export class EmqxAuthzRequest {
  @IsString() @MaxLength(256) clientid!: string;
  @IsString() @MaxLength(256) username!: string;
  @IsString() @MaxLength(1024) topic!: string;
  @IsIn(['publish', 'subscribe']) action!: 'publish' | 'subscribe';
  @IsOptional() @IsString() @MaxLength(64) peerhost?: string;
}

/** What EMQX 5 reads: HTTP 200 and `result` allow/deny (never `ignore`: the registry is the one authority). */
interface EmqxAnswer {
  readonly result: 'allow' | 'deny';
  readonly is_superuser?: false;
}

/**
 * EMQX 5 asks, the registry answers (BrokerHooks). Authenticated by the hook secret in the HTTP
 * edge, not by an API key; absent unless DUSTWATCH_MQTT_BROKER_HOOK_SECRET is set. Left out of
 * the OpenAPI page: it is the broker's contract, not the API's.
 */
@ApiExcludeController()
@Controller('api/broker/emqx')
export class BrokerHooksController {
  constructor(@Inject(BrokerHooks) private readonly hooks: BrokerHooks | null) {}

  @Post('authn')
  @HttpCode(200)
  async authn(@Body() body: EmqxAuthnRequest): Promise<EmqxAnswer> {
    const verdict = await this.available().authenticate({
      clientId: body.clientid,
      username: body.username,
      password: body.password,
      peerHost: body.peerhost ?? 'unknown',
    });
    return { ...answer(verdict), is_superuser: false };
  }

  @Post('authz')
  @HttpCode(200)
  authz(@Body() body: EmqxAuthzRequest): EmqxAnswer {
    return answer(
      this.available().authorize({
        clientId: body.clientid,
        username: body.username,
        topic: body.topic,
        action: body.action,
      }),
    );
  }

  private available(): BrokerHooks {
    if (!this.hooks) throw new NotFoundException('broker hooks are not configured');
    return this.hooks;
  }
}

const answer = (verdict: BrokerVerdict): EmqxAnswer => ({ result: verdict.allow ? 'allow' : 'deny' });
