import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export class RegisterDto {
  @IsString()
  @MaxLength(254)
  // No invisible or control characters: "victim@example.com\u200b" must not become a look-alike account.
  @Matches(/^[^\p{Cc}\p{Cf}\s]+$/u, { message: 'email must be an email address' })
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @IsString()
  @Length(8, 1024, { message: 'password must be at least 8 characters' })
  password!: string;

  @IsOptional()
  @IsString()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @Length(1, 100)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'name must not contain control characters' })
  name?: string;
}
