import { ApiProperty } from '../openapi/swagger.js';
import type { AccountFailures, SessionStats } from '../../session-stats.service.js';

/** One account of `loginFailuresByAccountLast24h`. */
export class AccountFailuresResponse implements AccountFailures {
  @ApiProperty({ description: 'The account.', example: '0b8e5c1e-3f1a-4c55-9a43-2f0e6d6f4a11' })
  userId!: string;

  @ApiProperty({ description: 'Wrong passwords given for it in the last 24 hours (login and other password checks).', example: 37 })
  failures!: number;
}

/** `GET /admin/sessions/stats`. */
export class SessionStatsResponse implements SessionStats {
  @ApiProperty({ description: 'Live sessions now.', example: 412 })
  active!: number;

  @ApiProperty({ description: 'Live sessions with a socket connected now (on any instance).', example: 57 })
  online!: number;

  @ApiProperty({ description: 'Users with a socket connected now (on any instance).', example: 49 })
  onlineUsers!: number;

  @ApiProperty({ description: 'Sessions opened in the last 24 hours.', example: 230 })
  createdLast24h!: number;

  @ApiProperty({ description: 'Sessions ended early in the last 24 hours, for any reason (logout, admin, eviction, reuse…).', example: 97 })
  revokedLast24h!: number;

  @ApiProperty({ description: 'Sessions whose time ran out (expired or idle) in the last 24 hours.', example: 41 })
  expiredLast24h!: number;

  @ApiProperty({ description: 'Mean lifetime, creation to end, of the sessions that ended in the last 24 hours; 0 if none did.', example: 51840 })
  averageDurationSeconds!: number;

  @ApiProperty({ description: 'Most sessions live at once in the last 24 hours (sampled every sweep interval, and now).', example: 455 })
  peakConcurrent!: number;

  @ApiProperty({ description: 'Failed login attempts in the last 24 hours.', example: 12 })
  loginFailuresLast24h!: number;

  @ApiProperty({
    type: [AccountFailuresResponse],
    description:
      'The accounts with the most wrong passwords in the last 24 hours, most first, at most 10 ' +
      '(failures against unknown emails are not in it). Their attempts: `GET /admin/audit?userId=…&type=login_failed`.',
  })
  loginFailuresByAccountLast24h!: AccountFailuresResponse[];

  @ApiProperty({ description: 'Refresh-token reuse detected (and the session revoked) in the last 24 hours.', example: 0 })
  reuseDetectedLast24h!: number;

  @ApiProperty({ description: 'Sessions revoked in the last 24 hours because a request came from another client than the one they are bound to.', example: 0 })
  hijackSuspectedLast24h!: number;

  @ApiProperty({ description: 'Logins in the last 24 hours from a browser family, network or device id new to the user (`new_device` audit entries).', example: 8 })
  newDeviceLoginsLast24h!: number;

  @ApiProperty({ description: 'Requests refused in the last 24 hours by a rate limit or the failed-login backoff (`throttled` audit entries).', example: 3 })
  throttledLast24h!: number;

  @ApiProperty({ description: 'Sessions opened by upgrading a legacy session (express-session, a legacy table) in the last 24 hours.', example: 0 })
  migratedLast24h!: number;
}
