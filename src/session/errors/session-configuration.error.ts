/** Thrown at start-up when the module's options cannot work; the message says how to fix them. */
export class SessionConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}
