import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** `POST /auth/password`. */
export class ChangePasswordDto {
  @ApiProperty({ minLength: 1, maxLength: 1024, example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 1024)
  currentPassword!: string;

  @ApiProperty({ minLength: 8, maxLength: 1024, example: 'another long passphrase' })
  @IsString()
  @Length(8, 1024, { message: 'newPassword must be at least 8 characters' })
  newPassword!: string;
}
