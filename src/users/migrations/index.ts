import { CreateUsers1763700000000 } from './1763700000000-create-users';
import { AddEmailSkeleton1764250000000 } from './1764250000000-add-email-skeleton';

export const USER_MIGRATIONS = [CreateUsers1763700000000, AddEmailSkeleton1764250000000];
