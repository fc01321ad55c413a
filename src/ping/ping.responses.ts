import { ApiProperty } from '@nestjs/swagger';

/** `GET /ping`: the app answers. */
export class PingResponse {
  @ApiProperty({ enum: [true], example: true })
  ok!: true;
}

/** `GET /ping/secure`: the app answers, and knows the caller. */
export class SecurePingResponse extends PingResponse {
  @ApiProperty({ example: '0b9f2c1e-6a43-4a8e-9d6c-1f2e3a4b5c6d' })
  userId!: string;
}
