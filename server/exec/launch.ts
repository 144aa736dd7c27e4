// Which isolation mode an engine uses (docs/execution.md, "Isolation"). Each mode the engine's
// user may use is tried, strongest first, by starting a real worker with it: the first whose
// worker comes up isolated as promised (uid/gid 65534 without supplementary groups, no
// capability, loopback only, not dumpable) is the engine's mode, and that worker joins the pool. A weaker mode than the preferred
// one, and why, is reported in the status (logged as a warning by the engine); `none` only with
// the explicit opt-in.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIX, NO_BWRAP, findBwrap, harnessDir, isRoot, launchPlan, type LaunchPlan } from './sandbox';
import type { SandboxStatus } from '../protocol';
import { SandboxUnavailableError, type ExecLimits } from './types';
import { WorkerProcess } from './worker';
import type { Isolation } from '../protocol';

export interface LaunchOptions {
  python: string;
  limits: ExecLimits;
  allowUnsandboxed: boolean;
  /** bubblewrap's path (a path that does not exist means "no bubblewrap"); default findBwrap(). */
  bwrap?: string;
  /** Use exactly this mode. */
  mode?: Isolation;
}

export interface Launch {
  plan: LaunchPlan;
  status: SandboxStatus;
  /** The worker started while choosing: the engine's first. */
  first: WorkerProcess;
}

/** The bubblewrap modes the engine's user may use, strongest first. */
export function modesFor(root: boolean): Isolation[] {
  return root ? ['bwrap-nobody', 'bwrap-root'] : ['bwrap-user'];
}

/** What each mode is, for the log line and the editor's tooltip. */
export const MODE_TEXT: Record<Isolation, string> = {
  'bwrap-nobody': 'bubblewrap started as uid 65534',
  'bwrap-root': 'bubblewrap started by root in a user namespace the engine made (the sandbox is host uid 65534)',
  'bwrap-user': "bubblewrap started by this user (the sandbox is this user's uid, 65534 inside)",
  none: 'NO ISOLATION',
};

/** How to get the preferred mode back, when a weaker one was used. */
const UPGRADE: Partial<Record<Isolation, string>> = {
  'bwrap-root':
    'To get bwrap-nobody: allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and ' +
    'user.max_user_namespaces > 0; on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0) and keep the ' +
    'interpreter (PAIRFORGE_PYTHON) readable by uid 65534.',
};

async function tryMode(mode: Isolation, o: LaunchOptions, bwrap: string | undefined): Promise<{ plan: LaunchPlan; first: WorkerProcess } | { error: string }> {
  let plan: LaunchPlan;
  try {
    const workdir = mode === 'none' ? mkdtempSync(path.join(os.tmpdir(), 'pairforge-exec-')) : undefined;
    plan = launchPlan(mode, bwrap, o.python, harnessDir(), o.limits, workdir);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const fail = (error: string) => {
    if (plan.workdir) rmSync(plan.workdir, { recursive: true, force: true });
    return { error };
  };
  try {
    // WorkerProcess.start refuses a worker that is not isolated as the mode promises.
    return { plan, first: await WorkerProcess.start(plan) };
  } catch (e) {
    return fail((e as Error).message.replace(/\s+/g, ' ').trim());
  }
}

/**
 * Chooses the mode and starts the first worker with it. Throws SandboxUnavailableError (saying
 * how to fix it) when no isolated mode works and unisolated running was not allowed, or when the
 * pinned mode cannot start.
 */
export async function chooseLaunch(o: LaunchOptions): Promise<Launch> {
  const root = isRoot();
  const order = modesFor(root);
  const preferred = order[0];
  const bwrap = o.bwrap !== undefined ? (existsSync(o.bwrap) ? o.bwrap : undefined) : findBwrap();

  if (o.mode !== undefined) {
    const pinned = o.mode;
    if (pinned === 'none' && !o.allowUnsandboxed) throw new SandboxUnavailableError(`isolation mode 'none' needs the explicit opt-in to run unsandboxed. ${FIX}`);
    if (pinned !== 'none' && !order.includes(pinned)) {
      throw new SandboxUnavailableError(`isolation mode '${pinned}' is not available to ${root ? 'root' : 'an ordinary user'}: use ${order.join(' or ')}`);
    }
    const got = await tryMode(pinned, o, bwrap);
    if ('error' in got) throw new SandboxUnavailableError(`the isolation mode '${pinned}' cannot start here: ${got.error}. ${FIX}`);
    if (pinned === preferred) return { ...got, status: { mode: pinned, preferred, warning: false } };
    // Weaker than asked for by default: is a stronger mode possible here? Say so.
    let stronger: Isolation | undefined;
    for (const m of order.slice(0, pinned === 'none' ? order.length : order.indexOf(pinned))) {
      const probe = await tryMode(m, o, bwrap);
      if (!('error' in probe)) {
        await probe.first.kill();
        stronger = m;
        break;
      }
    }
    const reason = `the mode was pinned to ${pinned}${stronger ? `, although ${stronger} works on this machine` : ''}`;
    return { ...got, status: { mode: pinned, preferred, reason, warning: true } };
  }

  const problems: string[] = [];
  if (!bwrap) problems.push(NO_BWRAP);
  else {
    for (const mode of order) {
      const got = await tryMode(mode, o, bwrap);
      if (!('error' in got)) {
        const reason = problems.length ? `${problems.join('; ')}${UPGRADE[mode] ? `. ${UPGRADE[mode]}` : ''}` : undefined;
        return { ...got, status: { mode, preferred, ...(reason ? { reason } : {}), warning: mode !== preferred } };
      }
      problems.push(`${mode}: ${got.error}`);
    }
  }
  const why = !bwrap ? NO_BWRAP : `bubblewrap (${bwrap}) cannot create the sandbox here: ${problems.join('; ')}.`;
  if (!o.allowUnsandboxed) throw new SandboxUnavailableError(`${why} ${FIX}`);
  const got = await tryMode('none', o, bwrap);
  if ('error' in got) throw new Error(`the unisolated worker cannot start either: ${got.error}`);
  return { ...got, status: { mode: 'none', preferred, reason: why, warning: true } };
}

/** The one line the engine logs about its mode when it starts. */
export function statusLine(s: SandboxStatus): string {
  if (!s.warning) return `sandbox: ${s.mode} (${MODE_TEXT[s.mode]})`;
  return `WARNING: sandbox: ${s.mode} (${MODE_TEXT[s.mode]}), weaker than ${s.preferred}: ${s.reason ?? 'no reason known'}`;
}
