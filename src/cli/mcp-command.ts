/**
 * `moa mcp`: the MoA tools (`moa_ask`, `moa_presets`) as an MCP server over stdio, for MCP
 * clients that start their servers as commands (Claude Desktop, Claude Code, Cursor, …).
 * stdout carries only MCP; the one line about what it serves goes to stderr. It ends (exit 0)
 * when the client closes stdin, or on SIGTERM/SIGINT.
 */
import { loadConfig } from '../node/load-config.js';
import { serveMcpOverStdio } from '../server/mcp-stdio.js';
import { choosePresetsForServer } from '../node/preset-catalog.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_OK } from './exit-codes.js';
import { ensureDefaultLocalModel } from './prepare-preset.js';

interface McpOptions {
  config?: string;
  yes?: boolean;
}

export function registerMcpCommand({ program, io, setExitCode }: CommandRegistration): void {
  program
    .command('mcp')
    .description('serve the presets as MCP tools (moa_ask, moa_presets) over stdio, for MCP clients')
    .option('-c, --config <file>', 'config file (default: ./moa.config.yaml, or $MOA_CONFIG)')
    .option('-y, --yes', 'download the default local model without asking when it is needed (also MOA_YES=1)')
    .action(async (options: McpOptions) => {
      const config = loadConfig({ ...(options.config !== undefined ? { configPath: options.config } : {}), env: io.env });
      const machinePresets = await choosePresetsForServer(config, io.env);
      if (machinePresets.detected) {
        io.stderr.write(`moa mcp: ${machinePresets.detected.notice}\n`);
        // stdin belongs to the MCP client: nobody can be asked, so only --yes / MOA_YES downloads.
        if (machinePresets.detected.source === 'local') await ensureDefaultLocalModel(options, io, { interactive: false });
      }
      const server = await serveMcpOverStdio({ config, machinePresets, env: io.env });
      const stop = (): void => void server.close();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      io.stderr.write(
        `moa mcp: serving ${server.catalog.names.length} preset(s) as MCP tools over stdio; default: ${server.catalog.defaultName ?? '(none: moa_ask must name a preset)'}\n`,
      );
      await server.closed;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      setExitCode(EXIT_OK);
    });
}
