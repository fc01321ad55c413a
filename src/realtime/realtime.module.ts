import { DynamicModule, Module } from '@nestjs/common';
import { parseAppEnv } from '../config/app-env';
import { WhoAmIGateway, WhoAmIWsGateway } from './whoami.gateway';

/** The app's gateway, on the transport `REALTIME_TRANSPORT` names (its adapter is set in `app.factory.ts`). */
@Module({})
export class RealtimeModule {
  static forRoot(envVars?: Record<string, string | undefined>): DynamicModule {
    const env = parseAppEnv(envVars ?? process.env);
    return { module: RealtimeModule, providers: [env.REALTIME_TRANSPORT === 'ws' ? WhoAmIWsGateway : WhoAmIGateway] };
  }
}
