import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { USER_ID_PATTERN } from '../user-id.pipe';

/** `GET /admin/sessions`: an optional user filter and the page. */
export class AdminSessionsQuery {
  @ApiPropertyOptional({
    description: 'Only the sessions of this user.',
    minLength: 1,
    maxLength: 128,
    example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d',
  })
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN, { message: 'userId must be 1 to 128 printable characters' })
  userId?: string;

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
