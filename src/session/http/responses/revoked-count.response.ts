import { ApiProperty } from '../openapi/swagger.js';

/** How many sessions a bulk revocation ended. */
export class RevokedCountResponse {
  @ApiProperty({ minimum: 0, example: 3 })
  revoked!: number;
}
