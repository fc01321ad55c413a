import { CreateSessions1763800000000 } from './1763800000000-create-sessions.js';
import { CreateRotatedRefreshTokens1763900000000 } from './1763900000000-create-rotated-refresh-tokens.js';
import { CreateAuditAndStats1764000000000 } from './1764000000000-create-audit-and-stats.js';
import { RememberRotatedAccessHashes1764100000000 } from './1764100000000-remember-rotated-access-hashes.js';
import { RememberPreviousAccessHash1764150000000 } from './1764150000000-remember-previous-access-hash.js';
import { KeepRotationSecrets1764300000000 } from './1764300000000-keep-rotation-secrets.js';
import { OneLiveSessionPerDevice1764310000000 } from './1764310000000-one-live-session-per-device.js';
import { IndexSessionsByUserAndCreation1764320000000 } from './1764320000000-index-sessions-by-user-and-creation.js';
import { DropIndexesTheSweepReplaced1764400000000 } from './1764400000000-drop-indexes-the-sweep-replaced.js';
import { IndexRotatedRefreshTokensByTime1764500000000 } from './1764500000000-index-rotated-refresh-tokens-by-time.js';

/** The session module's migrations, oldest first: add them to your DataSource's `migrations`. */
export const SESSION_MIGRATIONS = [
  CreateSessions1763800000000,
  CreateRotatedRefreshTokens1763900000000,
  CreateAuditAndStats1764000000000,
  RememberRotatedAccessHashes1764100000000,
  RememberPreviousAccessHash1764150000000,
  KeepRotationSecrets1764300000000,
  OneLiveSessionPerDevice1764310000000,
  IndexSessionsByUserAndCreation1764320000000,
  DropIndexesTheSweepReplaced1764400000000,
  IndexRotatedRefreshTokensByTime1764500000000,
];
