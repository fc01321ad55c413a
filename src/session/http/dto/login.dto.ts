import { ApiProperty, ApiPropertyOptional } from '../openapi/swagger.js';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';
import { normalizeEmail } from '../../normalize-email.js';
import { MaxChars } from './max-chars.js';

/** Printable, no control or invisible formatting characters, 1 to 128 of them (the `device_id` column). */
const DEVICE_ID_PATTERN = /^[^\p{Cc}\p{Cf}]{1,128}$/u;

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

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 128,
    example: '5f0c7a52-1c4e-4b8e-9a57-0d5b6f3e2a91',
    description:
      'A stable id of the device (else `X-Device-Id`): a user has at most one live session per device id, so a ' +
      'login with it ends the session the user had on that device.',
  })
  @IsOptional()
  @IsString()
  @Matches(DEVICE_ID_PATTERN, { message: 'deviceId must be 1 to 128 printable characters' })
  deviceId?: string;
}
