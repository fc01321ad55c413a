import { IsOptional, IsString, MaxLength } from 'class-validator';

export class RefreshDto {
  /** Optional when the refresh cookie is sent instead. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;
}
