import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/** Characters as PostgreSQL counts them in a `varchar(n)` of a UTF-8 database: code points. */
export function charCount(value: string): number {
  // A lone surrogate is one character too: the driver sends it as U+FFFD.
  return [...value].length;
}

/**
 * At most `max` characters, counted as PostgreSQL counts them (code points), so that what passes
 * fits a `varchar(max)` column. class-validator's `MaxLength` counts a character followed by a
 * variation selector (U+FE0E, U+FE0F) as one, where PostgreSQL counts two: input it accepts can
 * overflow the column.
 */
export function MaxChars(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxChars',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && charCount(value) <= max,
        defaultMessage: buildMessage((each) => `${each}$property must be shorter than or equal to $constraint1 characters`, options),
      },
    },
    options,
  );
}
