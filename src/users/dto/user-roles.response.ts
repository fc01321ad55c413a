import { ApiProperty } from '@nestjs/swagger';

/** The answer of `PATCH /admin/users/:userId`: the user with their roles as now stored. */
export class UserRolesResponse {
  @ApiProperty({ example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d' })
  id!: string;

  @ApiProperty({ format: 'email', example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ type: [String], example: ['admin'] })
  roles!: string[];
}
