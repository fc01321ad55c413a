import { ApiProperty } from '../openapi/swagger.js';

/** The user a session belongs to, as login, refresh and `GET /auth/me` show it. */
export class SessionUserResponse {
  @ApiProperty({ example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d' })
  id!: string;

  @ApiProperty({ format: 'email', example: 'ada@example.com', description: 'Lower-cased.' })
  email!: string;

  @ApiProperty({ type: [String], example: ['admin'] })
  roles!: string[];
}
