import type { SessionStore } from './session-store.js';

/** What `SessionModule` hands an adapter when the app starts. */
export interface AdapterContext {
  /** The store the module runs on: the truth a cache reconciles from after losing its marks. */
  store: SessionStore;
}

/**
 * Hooks an adapter may have. Adapters are values the app passes in, not Nest providers, so
 * `SessionModule` calls these itself, on every adapter that has them.
 */
export interface AdapterLifecycle {
  /** Once, before the app serves requests. */
  start?(context: AdapterContext): void | Promise<void>;
  /**
   * Once, when the app begins to shut down, before any connection closes (Nest's
   * `beforeApplicationShutdown`): stop background jobs that use the store or a connection.
   */
  stop?(): void | Promise<void>;
  /** Once, when the app shuts down: stop timers, close what the adapter opened (never a client the app handed it). */
  close?(): void | Promise<void>;
}
