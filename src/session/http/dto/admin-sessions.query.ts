import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { USER_ID_PATTERN } from '../user-id.pipe';

export class AdminSessionsQuery {
  @IsOptional()
  @IsString()
  @Matches(USER_ID_PATTERN, { message: 'userId must be 1 to 128 printable characters' })
  userId?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}
