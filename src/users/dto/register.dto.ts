import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

/** `POST /auth/register`. */
export class RegisterDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.com',
    description: 'Stored lower-cased; an address that differs only in case is taken.',
  })
  @IsString()
  @MaxLength(254)
  // No invisible or control characters: "victim@example.com\u200b" must not become a look-alike account.
  @Matches(/^[^\p{Cc}\p{Cf}\s]+$/u, { message: 'email must be an email address' })
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @ApiProperty({ minLength: 8, maxLength: 1024, example: 'correct horse battery staple' })
  @IsString()
  @Length(8, 1024, { message: 'password must be at least 8 characters' })
  password!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'Ada Lovelace', description: 'Trimmed; no control characters.' })
  @IsOptional()
  @IsString()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @Length(1, 100)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'name must not contain control characters' })
  name?: string;
}
