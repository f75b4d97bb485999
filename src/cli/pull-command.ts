/** `moa pull` (being built). */
import type { CommandRegistration } from './command-registration.js';

export function registerPullCommand(_registration: CommandRegistration): void {
  // Registered by the issue that builds it.
}
