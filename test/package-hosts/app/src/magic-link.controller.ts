import { Body, Controller, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Public, SessionIssuer } from 'nest-session-module';
import type { IssuerRequest } from 'nest-session-module';
import { UsersService } from './users.service.js';

/**
 * A login without a password: the host checks a one-time link its own way, then has the module
 * open the session and answer exactly as `POST /auth/login` does (cookies and body).
 */
@Controller('magic-link')
export class MagicLinkController {
  private readonly links = new Map<string, string>();

  constructor(
    private readonly users: UsersService,
    private readonly issuer: SessionIssuer,
  ) {}

  /** A real app would e-mail the link; this one hands the token back. */
  @Post()
  @Public()
  @HttpCode(200)
  send(@Body() body: { email?: string }) {
    const user = typeof body?.email === 'string' ? this.users.findByEmail(body.email) : null;
    const token = randomBytes(24).toString('base64url');
    if (user) this.links.set(token, user.id);
    return { token: user ? token : null };
  }

  @Post('redeem')
  @Public()
  @HttpCode(200)
  async redeem(@Body() body: { token?: string }, @Req() req: IssuerRequest, @Res({ passthrough: true }) res: object) {
    const userId = typeof body?.token === 'string' ? this.links.get(body.token) : undefined;
    if (!userId) throw new UnauthorizedException('Unknown or used link');
    this.links.delete(body.token!);
    const user = await this.users.findById(userId);
    if (!user) throw new UnauthorizedException('Unknown or used link');
    return this.issuer.issue(req, res, user, { data: { via: 'magic-link' } });
  }
}
