import { Controller, Get, UseGuards } from '@nestjs/common';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import { Public } from 'nest-session-module';

/** What the host had before the module: its home page, and a route under its own rate limit. */
@Controller()
export class HostController {
  @Get()
  @SkipThrottle()
  home() {
    return { hello: 'host' };
  }

  /** The host's own ThrottlerModule (3 per minute): the session module must not take it over. */
  @Get('host-limited')
  @Public()
  @UseGuards(ThrottlerGuard)
  limited() {
    return { limited: true };
  }
}
