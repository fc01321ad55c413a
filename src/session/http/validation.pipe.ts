import { ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { unsafeJsonReason } from './json-safety.middleware.js';

/**
 * DTO validation of the module's routes: unknown fields are refused, not silently dropped, and a
 * body nested absurdly deep, carrying prototype keys or ill-formed text is refused (400) before
 * validation sees it, on Express and Fastify alike, whatever the app installs.
 */
class SessionValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const reason = unsafeJsonReason(value);
      if (reason) throw new BadRequestException(reason);
    }
    return super.transform(value, metadata);
  }
}

export const sessionValidationPipe = () =>
  new SessionValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });
