import { CreateSessions1763800000000 } from './1763800000000-create-sessions';

/** The session module's migrations, oldest first: add them to your DataSource's `migrations`. */
export const SESSION_MIGRATIONS = [CreateSessions1763800000000];
