import { Module } from '@nestjs/common';
import { GuardedController, PlainController } from './things.controllers.js';

/** A feature module of the host: it does not import SessionModule, whose providers are global. */
@Module({ controllers: [GuardedController, PlainController] })
export class ThingsModule {}
