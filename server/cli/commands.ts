// The table of CLI commands, in the order `pairforge --help` lists them. Each stage keeps its
// command in `server/<stage>/command.ts`; adding one is one import and one entry here.
import { blocksCommand } from '../blocks/command';
import { importCommand } from '../import/command';
import { statsCommand } from '../store/command';
import { targetsCommand } from '../targets/command';
import type { Command } from './kit';

export const COMMANDS: readonly Command[] = [importCommand, blocksCommand, targetsCommand, statsCommand];
