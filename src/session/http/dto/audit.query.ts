import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { SESSION_EVENT_TYPES, type SessionEventType } from '../../session.events';
import { USER_ID_PATTERN } from '../user-id.pipe';

/** `GET /admin/audit`: optional user and type filters and the page. */
export class AuditQuery {
  @ApiPropertyOptional({ description: 'Only the entries of this user.', minLength: 1, maxLength: 128 })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN, { message: 'userId must be 1 to 128 printable characters' })
  userId?: string;

  @ApiPropertyOptional({ description: 'Only entries of this type.', enum: SESSION_EVENT_TYPES })
  @IsOptional()
  @IsIn(SESSION_EVENT_TYPES, { message: `type must be one of: ${SESSION_EVENT_TYPES.join(', ')}` })
  type?: SessionEventType;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1_000_000, default: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}
