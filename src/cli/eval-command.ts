/** `moa eval` (being built). */
import type { CommandRegistration } from './command-registration.js';

export function registerEvalCommands(_registration: CommandRegistration): void {
  // Registered by the issue that builds it.
}
