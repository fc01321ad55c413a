import { ApiProperty } from '../openapi/swagger.js';
import { SessionUserResponse } from './session-user.response.js';

/** The session making the request. */
export class CurrentSessionResponse {
  @ApiProperty({ format: 'uuid', example: '5f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f' })
  id!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T10:05:12.345Z' })
  lastActivityAt!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-22T10:05:12.345Z' })
  expiresAt!: string;
}

/** `GET /auth/me`: who is calling, through which session. */
export class MeResponse {
  @ApiProperty({ type: () => SessionUserResponse })
  user!: SessionUserResponse;

  @ApiProperty({ type: () => CurrentSessionResponse })
  session!: CurrentSessionResponse;
}
