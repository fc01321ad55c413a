import { ApiProperty } from '../openapi/swagger.js';
import { SessionUserResponse } from './session-user.response.js';

/**
 * The answer of login and refresh: new tokens, shown this once and never stored raw. With
 * `SESSION_COOKIES=only` (the module's `cookies: 'only'`) the tokens are in the cookies alone and
 * the body has no `accessToken`, `refreshToken` or `tokenType`.
 */
export class IssuedSessionResponse {
  @ApiProperty({
    required: false,
    description: 'Opaque; send it as `Authorization: Bearer <accessToken>`. Absent with cookies only (`SESSION_COOKIES=only`).',
    example: 'sa_3q2-7wBk0Yt1mJ9xXh5VfQe8LrZcDpNuGs4oAiTb6Ky_WjHnMlOvE2RdPx7SaQfU',
  })
  accessToken?: string;

  @ApiProperty({
    required: false,
    description: 'Opaque; single use: `POST /auth/refresh` exchanges it for a new pair. Absent with cookies only (`SESSION_COOKIES=only`).',
    example: 'sr_Vb8nQ2wZk5Xr0Jm7Ht3Lp9Ya4Cd6Ef1Gh_Ij-KlMnOpQrStUvWxYz0123456789ab',
  })
  refreshToken?: string;

  @ApiProperty({ enum: ['Bearer'], example: 'Bearer', required: false, description: 'Absent with cookies only (`SESSION_COOKIES=only`).' })
  tokenType?: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 900 })
  expiresIn!: number;

  @ApiProperty({ description: 'Seconds until the refresh token expires.', example: 604800 })
  refreshExpiresIn!: number;

  @ApiProperty({ format: 'uuid', description: 'Stays the same across refreshes.', example: '5f0c6a2e-8d1b-4c3a-9e7f-2a1b3c4d5e6f' })
  sessionId!: string;

  @ApiProperty({ type: () => SessionUserResponse })
  user!: SessionUserResponse;
}
