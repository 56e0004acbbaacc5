import { BadRequestException, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Response } from 'express';
import { EvidenceService } from '@dustwatch/core';
import { ID_PATTERN } from '@dustwatch/telemetry';
import { KeyedController } from './keyed-controller';
import { MinRole } from './min-role';
import { EvidenceKeyResponse, EvidenceSealResponse } from './responses';

/** The tamper-evident record (docs/evidence.md): the installation's key, on-demand roots, a site's day as a bundle. */
@KeyedController('api', 'evidence')
export class EvidenceController {
  constructor(@Inject(EvidenceService) private readonly evidence: EvidenceService) {}

  @Get('evidence/key')
  @MinRole('viewer')
  @ApiOperation({
    summary: "The installation's Ed25519 public key and its fingerprint, which `dustwatch-verify --key` pins",
  })
  @ApiOkResponse({ type: EvidenceKeyResponse })
  key(): EvidenceKeyResponse {
    return { fingerprint: this.evidence.keyFingerprint, publicKeyPem: this.evidence.publicKeyPem };
  }

  @Post('evidence/seal')
  @HttpCode(200)
  @MinRole('admin')
  @ApiOperation({
    summary: 'Seals a root now over every chain head that moved (the service seals one each hour anyway)',
  })
  @ApiOkResponse({ type: EvidenceSealResponse })
  async seal(): Promise<EvidenceSealResponse> {
    return { sealed: await this.evidence.seal() };
  }

  @Get('evidence/sites/:siteId/:day')
  @MinRole('inspector')
  @ApiOperation({
    summary: "A site's receipts of one Asia/Shanghai day as a bundle that `dustwatch-verify` checks offline",
  })
  @ApiProduces('application/zip')
  @ApiOkResponse({ content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } })
  async bundle(@Param('siteId') siteId: string, @Param('day') day: string, @Res() res: Response): Promise<void> {
    if (!ID_PATTERN.test(siteId)) throw new BadRequestException(`siteId must match ${ID_PATTERN.source}`);
    const zip = await this.evidence.bundle(siteId, day);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="dustwatch-evidence-${siteId}-${day}.zip"`);
    res.end(Buffer.from(zip));
  }
}
