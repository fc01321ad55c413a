import { ApiPropertyOptional } from '../openapi/swagger.js';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { SESSION_EVENT_TYPES, type SessionEventType } from '../../session.events.js';
import { USER_ID_PATTERN } from '../user-id.pipe.js';
import { PageQuery } from './page.query.js';

/** `GET /admin/audit`: optional user and type filters and the page. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only the entries of this user.', minLength: 1, maxLength: 128 })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN, { message: 'userId must be 1 to 128 printable characters' })
  userId?: string;

  @ApiPropertyOptional({ description: 'Only entries of this type.', enum: SESSION_EVENT_TYPES })
  @IsOptional()
  @IsIn(SESSION_EVENT_TYPES, { message: `type must be one of: ${SESSION_EVENT_TYPES.join(', ')}` })
  type?: SessionEventType;
}
