import { ApiProperty, ApiPropertyOptional } from '../openapi/swagger.js';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length } from 'class-validator';
import { normalizeEmail } from '../../normalize-email.js';
import { MaxChars } from './max-chars.js';

/** `POST /auth/login`. */
export class LoginDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.com',
    description: 'Normalized (NFKC, lower-cased) before it is checked: case and full-width forms do not matter.',
  })
  @Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value))
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxChars(254)
  email!: string;

  @ApiProperty({ minLength: 1, maxLength: 1024, example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 1024)
  password!: string;

  @ApiPropertyOptional({
    maxLength: 128,
    example: 'Work laptop',
    description: 'A label for the session in session lists; else `X-Device-Name`, else derived from the User-Agent.',
  })
  @IsOptional()
  @IsString()
  @MaxChars(128)
  deviceName?: string;
}
