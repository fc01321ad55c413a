import { Body, Controller, Post, UsePipes, ValidationPipe } from '@nestjs/common';
import { Public } from '../session';
import { RegisterDto } from './dto/register.dto';
import { UsersService } from './users.service';

@Controller('auth')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Anyone may register; roles are never taken from the request. */
  @Post('register')
  @Public()
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
  async register(@Body() body: RegisterDto) {
    const user = await this.users.register(body);
    return { id: user.id, email: user.email };
  }
}
