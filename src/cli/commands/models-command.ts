import type { Command } from 'commander';
import { modelsAsJson, modelsAsText } from '../models-table.js';

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('print the model table bunch validates jobs against: ratios, sizes, pixels, prices, limits, capabilities')
    .option('--json', 'print machine-readable JSON on stdout')
    .action((flags: { json?: boolean }) => {
      process.stdout.write(flags.json ? JSON.stringify(modelsAsJson(), null, 2) + '\n' : modelsAsText());
    });
}
