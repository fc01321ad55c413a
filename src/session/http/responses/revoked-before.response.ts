import { ApiProperty } from '../openapi/swagger.js';
import { RevokedCountResponse } from './revoked-count.response.js';

/** What `POST /admin/sessions/end-issued-before` ended, and the moment it applied (UTC). */
export class RevokedBeforeResponse extends RevokedCountResponse {
  @ApiProperty({ format: 'date-time', example: '2026-12-01T10:00:00.000Z' })
  before!: string;
}
