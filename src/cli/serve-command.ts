/** `moa serve` (being built). */
import type { CommandRegistration } from './command-registration.js';

export function registerServeCommand(_registration: CommandRegistration): void {
  // Registered by the issue that builds it.
}
