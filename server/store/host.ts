// The project the engine server works on, and the jobs that hold it.
//
// The editor may change `pairforge.project.path` (or its first workspace folder) at any time, also
// while an import, a cut or a sampling job writes to the project. A job holds the project it
// started on until it ends: changing the path makes new requests use the new file at once, while
// the old file stays open for the jobs that hold it and is closed when the last one finishes. So a
// job is never cut off mid-transaction ("The database connection is not open") and loses nothing.
import { existsSync } from 'node:fs';
import { openProject, type Project } from './db';

/** The project file cannot be used; the message says why and what to change. */
export class ProjectUnavailableError extends Error {
  override readonly name = 'ProjectUnavailableError';
}

/** A job was refused because another job of the same name already holds the project. */
export class ProjectBusyError extends Error {
  override readonly name = 'ProjectBusyError';
}

interface OpenProject {
  project: Project;
  /** Job name of each hold (a name may hold several times). */
  holds: string[];
}

export interface HoldOptions {
  /** Create the project file when it does not exist (import); else a missing file is an error. */
  create?: boolean;
  /** Refuse when a job of the same name already holds this project. */
  exclusive?: boolean;
}

export class ProjectHost {
  private file = '';
  private current: OpenProject | undefined;
  /** Projects of an earlier path that jobs still hold. */
  private readonly retiring = new Set<OpenProject>();

  constructor(
    private readonly log: (line: string) => void = () => undefined,
    private readonly open: (file: string) => Project = openProject,
  ) {}

  /** The project file new requests use ('' = none). */
  get path(): string {
    return this.file;
  }

  /** Switches to another project file. Jobs running on the old one finish there. */
  setPath(file: string): void {
    if (file === this.file) return;
    const old = this.current;
    this.file = file;
    this.current = undefined;
    if (!old) return;
    if (old.holds.length === 0) {
      old.project.close();
      return;
    }
    this.retiring.add(old);
    this.log(
      `project: the project file is now ${file || '(none)'}; ${describeJobs(old.holds)} still running on ${old.project.file} ` +
        'finish there first, then that file is closed',
    );
  }

  /** The current project, opened on first use. A missing file gives undefined unless `create`
   * (browsing must not create a project in the user's workspace). */
  get(create = false): Project | undefined {
    return this.entry(create)?.project;
  }

  /** The current project; a missing file is an error that tells the user how to make one. */
  require(what: string): Project {
    const p = this.get(false);
    if (!p) throw new ProjectUnavailableError(`${what}: no project file at ${this.file} yet: import a dataset first (PairForge: Import Dataset...)`);
    return p;
  }

  /** Runs `body` on the current project and keeps that project open until `body` settles, even
   * when the path changes meanwhile. */
  async hold<T>(job: string, opts: HoldOptions, body: (p: Project) => Promise<T>): Promise<T> {
    const entry = opts.create ? this.entry(true)! : this.entry(false);
    if (!entry) throw new ProjectUnavailableError(`${job}: no project file at ${this.file} yet: import a dataset first (PairForge: Import Dataset...)`);
    if (opts.exclusive && entry.holds.includes(job)) throw new ProjectBusyError(`${job}: another ${job} is still running on ${entry.project.file}`);
    entry.holds.push(job);
    try {
      return await body(entry.project);
    } finally {
      entry.holds.splice(entry.holds.indexOf(job), 1);
      if (entry.holds.length === 0 && this.retiring.delete(entry)) entry.project.close();
    }
  }

  /** Closes every project, held or not (server shutdown). */
  close(): void {
    this.current?.project.close();
    this.current = undefined;
    for (const e of this.retiring) e.project.close();
    this.retiring.clear();
  }

  private entry(create: boolean): OpenProject | undefined {
    if (this.current) return this.current;
    if (!this.file) throw new ProjectUnavailableError('no project open: set pairforge.project.path (a relative path needs an open workspace folder)');
    if (!create && !existsSync(this.file)) return undefined;
    let project: Project;
    try {
      project = this.open(this.file);
    } catch (e) {
      throw new ProjectUnavailableError(openFailure((e as Error).message));
    }
    this.current = { project, holds: [] };
    return this.current;
  }
}

/** Why a project file could not be opened, with what to change. A native addon built for another
 * Node ABI is the runtime's fault, not the path's. */
export function openFailure(message: string): string {
  const hint = /NODE_MODULE_VERSION|compiled against a different Node|invalid ELF|wrong ELF class/.test(message)
    ? `the engine runs on Node ${process.version} (ABI ${process.versions.modules}), which does not match the bundled better-sqlite3 addon: set pairforge.server.runtime to the Node it was built for`
    : 'check the setting pairforge.project.path';
  return `${message} (${hint})`;
}

function describeJobs(holds: readonly string[]): string {
  const names = [...new Set(holds)];
  return names.length === 1 ? `the ${names[0]} job` : `the jobs ${names.join(', ')}`;
}
