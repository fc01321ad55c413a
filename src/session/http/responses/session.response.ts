import { ApiProperty } from '../openapi/swagger.js';

/** What every view of a live session shows: where and on what it was opened, never a token. */
class SessionFields {
  @ApiProperty({ format: 'uuid', example: '5f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f' })
  id!: string;

  @ApiProperty({ description: 'A socket of this session is connected (on any instance).', example: false })
  online!: boolean;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T09:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-15T10:05:12.345Z' })
  lastActivityAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'When the session ends unless used again: the earliest of its refresh, idle and absolute ends.',
    example: '2025-01-22T10:05:12.345Z',
  })
  expiresAt!: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ipAddress!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) …' })
  userAgent!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'From the login body, `X-Device-Name`, or the User-Agent.',
    example: 'Chrome on macOS',
  })
  deviceName!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'From `X-Device-Type` or the User-Agent.',
    example: 'desktop',
  })
  deviceType!: string | null;
}

/** A live session as its owner sees it. */
export class SessionResponse extends SessionFields {
  @ApiProperty({ description: 'True for the session making this request.', example: true })
  current!: boolean;
}

/** A session as an admin sees it: whose it is, no `current` flag. */
export class AdminSessionResponse extends SessionFields {
  @ApiProperty({ example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d' })
  userId!: string;
}
