import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'session:isPublic';

/** Lets a route through the global session guard without a session. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
