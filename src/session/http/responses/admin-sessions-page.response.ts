import { ApiProperty } from '../openapi/swagger.js';
import { AdminSessionResponse } from './session.response.js';

/** One page of live sessions, most recently active first. */
export class AdminSessionsPageResponse {
  @ApiProperty({ type: () => [AdminSessionResponse] })
  items!: AdminSessionResponse[];

  @ApiProperty({ description: 'Live sessions matching the filter, on all pages.', example: 42 })
  total!: number;

  @ApiProperty({ minimum: 1, example: 1 })
  page!: number;

  @ApiProperty({ minimum: 1, maximum: 100, example: 20 })
  limit!: number;
}
