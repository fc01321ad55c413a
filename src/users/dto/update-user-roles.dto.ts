import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsString, Matches } from 'class-validator';

/** What a role name may be: what a session can carry (`SessionService.changeLiveSessions`). */
export const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/** `PATCH /admin/users/:userId`. */
export class UpdateUserRolesDto {
  @ApiProperty({
    type: [String],
    maxItems: 32,
    uniqueItems: true,
    example: ['admin'],
    description: 'The user’s roles from now on (replacing the old ones): at most 32 names, each 1 to 64 letters, digits, `_`, `.`, `:` or `-`.',
  })
  @IsArray({ message: 'roles must be an array of role names' })
  @ArrayMaxSize(32, { message: 'roles must hold at most 32 names' })
  @ArrayUnique({ message: 'roles must not repeat a name' })
  @IsString({ each: true, message: 'each role must be a string' })
  @Matches(ROLE_NAME, { each: true, message: 'each role must be 1 to 64 letters, digits, _ . : or -' })
  roles!: string[];
}
