import { Module } from '@nestjs/common';
import { NewSignInListener } from './new-sign-in.listener';

/** The app's answer to the session module's `new_device` event: a log line per new sign-in. */
@Module({ providers: [NewSignInListener] })
export class SignInAlertsModule {}
