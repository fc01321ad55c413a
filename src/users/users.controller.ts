import { Body, Controller, Post, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiValidationError, Public } from '../session';
import { RegisterDto } from './dto/register.dto';
import { RegisteredUserResponse } from './dto/registered-user.response';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('auth')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Anyone may register; roles are never taken from the request. */
  @Post('register')
  @ApiOperation({ summary: 'Create an account (without any role)' })
  @ApiCreatedResponse({ type: RegisteredUserResponse })
  @ApiValidationError(['email must be an email address', 'password must be at least 8 characters'])
  @ApiError(409, 'Email already registered', {
    description: 'The email is taken, whatever its case or width, or looks like a registered one (Unicode TS #39 skeleton).',
  })
  @Public()
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async register(@Body() body: RegisterDto) {
    const user = await this.users.register(body);
    return { id: user.id, email: user.email };
  }
}
