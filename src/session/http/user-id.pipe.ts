import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** Longest user id the module stores (the `user_id` column). */
export const MAX_USER_ID_LENGTH = 128;
/** Printable, no control or invisible formatting characters, no whitespace. */
export const USER_ID_PATTERN = /^[^\p{Cc}\p{Cf}\s]{1,128}$/u;

/** A user id from the URL: 400 when it cannot be one, instead of passing it to the database. */
@Injectable()
export class ParseUserIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
      throw new BadRequestException('userId must be 1 to 128 printable characters');
    }
    return value;
  }
}
