import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MinLength } from 'class-validator';
import { MaxChars, normalizeEmail } from '../../session';

/** `POST /auth/register`. */
export class RegisterDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.com',
    description:
      'Normalized (NFKC, lower-cased) before it is checked and stored, and at most 254 characters so normalized. ' +
      'An address that differs only in case or width, or that looks like a registered one (Unicode TS #39), is taken.',
  })
  // Normalized first: what is validated, measured and stored is one and the same string.
  @Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value))
  @IsString()
  @MaxChars(254)
  // No control, formatting, invisible or space characters: "victim@example.com\u200b" must not become a look-alike account.
  @Matches(/^[^\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\s]+$/u, { message: 'email must be an email address' })
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
  @MinLength(1)
  @MaxChars(100)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'name must not contain control characters' })
  name?: string;
}
