import { ApiProperty } from './swagger.js';

/** The body of every error answer, as Nest's exception layer writes it. */
export class ErrorResponse {
  @ApiProperty({ type: 'integer', description: 'The HTTP status code, repeated in the body.', example: 401 })
  statusCode!: number;

  @ApiProperty({
    description: 'What went wrong. Validation failures (400) list one message per invalid field.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Invalid or expired token',
  })
  message!: string | string[];

  @ApiProperty({ description: "The status code's reason phrase.", example: 'Unauthorized' })
  error!: string;
}
