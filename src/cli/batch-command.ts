/** `moa batch` (being built). */
import type { CommandRegistration } from './command-registration.js';

export function registerBatchCommand(_registration: CommandRegistration): void {
  // Registered by the issue that builds it.
}
