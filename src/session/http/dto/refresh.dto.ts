import { ApiPropertyOptional } from '../openapi/swagger.js';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** `POST /auth/refresh`. */
export class RefreshDto {
  /** Optional when the refresh cookie is sent instead. */
  @ApiPropertyOptional({
    maxLength: 512,
    example: 'sr_Vb8nQ2wZk5Xr0Jm7Ht3Lp9Ya4Cd6Ef1Gh_Ij-KlMnOpQrStUvWxYz0123456789ab',
    description:
      'The refresh token of the last login or refresh. May be left out when the refresh cookie is sent ' +
      '(cookies on); the request then needs the `X-CSRF-Token` header.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}
