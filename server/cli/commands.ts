// The table of CLI commands, in the order `pairforge --help` lists them. Each stage keeps its
// command in `server/<stage>/command.ts`; adding one is one import and one entry here.
import { blocksCommand } from '../blocks/command';
import { reportCommand } from '../dashboard/command';
import { checkRefsCommand, execCommand } from '../exec/command';
import { exportCommand } from '../export/command';
import { importCommand } from '../import/command';
import { serveLocalCommand } from '../localvllm/command';
import { pairsCommand } from '../pairs/command';
import { runCommand } from '../pipeline/command';
import { SAMPLE_CANDIDATES } from '../sampling/candidates';
import { sampleCommand } from '../sampling/command';
import { statsCommand } from '../pipeline/statsCommand';
import { rewardsCommand, scoreCommand } from '../scoring/command';
import { targetsCommand } from '../targets/command';
import { trainCommand } from '../training/command';
import type { Command } from './kit';

export const COMMANDS: readonly Command[] = [importCommand, blocksCommand, targetsCommand, checkRefsCommand, execCommand(SAMPLE_CANDIDATES), statsCommand, serveLocalCommand, sampleCommand, pairsCommand, scoreCommand, rewardsCommand, exportCommand, trainCommand, runCommand, reportCommand];
