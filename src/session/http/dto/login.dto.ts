import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';

export class LoginDto {
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @IsString()
  @Length(1, 1024)
  password!: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  deviceName?: string;
}
