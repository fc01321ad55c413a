import { ValidationPipe } from '@nestjs/common';

/** DTO validation of the module's routes: unknown fields are refused, not silently dropped. */
export const sessionValidationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });
