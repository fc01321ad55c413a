import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSessionAuth, CurrentUser, CurrentUserInfo, Public } from '../session';
import { PingResponse, SecurePingResponse } from './ping.responses';

@ApiTags('ping')
@Controller('ping')
export class PingController {
  @Get()
  @ApiOperation({ summary: 'Liveness of the HTTP layer; needs no session' })
  @ApiOkResponse({ type: PingResponse })
  @Public()
  ping() {
    return { ok: true };
  }

  @Get('secure')
  @ApiOperation({ summary: 'Answers only with a valid session' })
  @ApiSessionAuth()
  @ApiOkResponse({ type: SecurePingResponse })
  secure(@CurrentUser() user: CurrentUserInfo) {
    return { ok: true, userId: user.id };
  }
}
