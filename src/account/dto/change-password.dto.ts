import { IsString, Length } from 'class-validator';

export class ChangePasswordDto {
  @IsString()
  @Length(1, 1024)
  currentPassword!: string;

  @IsString()
  @Length(8, 1024, { message: 'newPassword must be at least 8 characters' })
  newPassword!: string;
}
