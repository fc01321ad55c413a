import { ApiProperty, ApiPropertyOptional } from '../openapi/swagger.js';
import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';

/** `POST /auth/login`. */
export class LoginDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com', description: 'Case does not matter.' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
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
  @MaxLength(128)
  deviceName?: string;
}
