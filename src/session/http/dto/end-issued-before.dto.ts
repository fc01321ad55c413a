import { ApiProperty } from '../openapi/swagger.js';
import { IsISO8601, IsString, Matches } from 'class-validator';

/**
 * A calendar date, a time and a time zone (`Z` or `±hh:mm`): a moment, never a local time that
 * would mean something else on the operator's machine and on the server.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const MESSAGE = 'before must be an ISO 8601 date and time with a time zone, e.g. 2026-12-01T10:00:00Z';

/** `POST /admin/sessions/end-issued-before`. */
export class EndIssuedBeforeDto {
  @ApiProperty({
    format: 'date-time',
    example: '2026-12-01T10:00:00Z',
    description:
      'Every session created before this moment that has not ended is ended. ISO 8601 with a time zone; ' +
      'not in the future. After restoring PostgreSQL from a backup: the moment the backup was taken.',
  })
  @IsString({ message: MESSAGE })
  @Matches(ISO_INSTANT, { message: MESSAGE })
  // Strict: no 30 February, which `Date` would roll over into March.
  @IsISO8601({ strict: true, strictSeparator: true }, { message: MESSAGE })
  before!: string;
}
