import { ApiProperty } from '../openapi/swagger.js';
import { SessionUserResponse } from './session-user.response.js';

/** The answer of login and refresh: new tokens, shown this once and never stored raw. */
export class IssuedSessionResponse {
  @ApiProperty({
    description: 'Opaque; send it as `Authorization: Bearer <accessToken>`.',
    example: 'sa_3q2-7wBk0Yt1mJ9xXh5VfQe8LrZcDpNuGs4oAiTb6Ky_WjHnMlOvE2RdPx7SaQfU',
  })
  accessToken!: string;

  @ApiProperty({
    description: 'Opaque; single use: `POST /auth/refresh` exchanges it for a new pair.',
    example: 'sr_Vb8nQ2wZk5Xr0Jm7Ht3Lp9Ya4Cd6Ef1Gh_Ij-KlMnOpQrStUvWxYz0123456789ab',
  })
  refreshToken!: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 900 })
  expiresIn!: number;

  @ApiProperty({ description: 'Seconds until the refresh token expires.', example: 604800 })
  refreshExpiresIn!: number;

  @ApiProperty({ format: 'uuid', description: 'Stays the same across refreshes.', example: '5f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f' })
  sessionId!: string;

  @ApiProperty({ type: () => SessionUserResponse })
  user!: SessionUserResponse;
}
