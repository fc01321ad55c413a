import { ApiPropertyOptional } from '../openapi/swagger.js';
import { IsOptional, IsString, Matches } from 'class-validator';
import { USER_ID_PATTERN } from '../user-id.pipe.js';
import { PageQuery } from './page.query.js';

/** `GET /admin/sessions`: an optional user filter and the page. */
export class AdminSessionsQuery extends PageQuery {
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
}
