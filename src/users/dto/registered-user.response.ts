import { ApiProperty } from '@nestjs/swagger';

/** The answer of `POST /auth/register`: the new user, who must now log in. */
export class RegisteredUserResponse {
  @ApiProperty({ example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d' })
  id!: string;

  @ApiProperty({ format: 'email', description: 'Normalized: NFKC, lower-cased.', example: 'ada@example.com' })
  email!: string;
}
