// The language client: starts the engine server (dist/server.js) on the Node runtime the user set
// (`pairforge.server.runtime`, as vscode-eslint's `runtime`), pushes settings to it, and relays its
// block notifications. If the runtime cannot run the server, the user is told which runtime failed
// and which setting to change.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  BlocksNotification,
  ConfigureNotification,
  SandboxStatusNotification,
  STORE_SCHEME,
  TrainingLogNotification,
  TrainingRunChangedNotification,
  type BlocksParams,
  type SandboxStatus,
  type TrainingLogParams,
  type TrainingRunView,
} from '../server/protocol';
import { config } from './config';
import { probeRuntime, runtimeErrorMessage } from './runtimeCheck';

/** Restarts allowed after the server crashed while running, within RESTART_WINDOW_MS. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60_000;

export class EngineClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  /** The program the server runs, or is starting, with (the probe's executable; undefined: none). */
  private startedWith: string | undefined;
  private readonly blocksEmitter = new vscode.EventEmitter<BlocksParams>();
  private readonly startedEmitter = new vscode.EventEmitter<void>();
  private readonly sandboxEmitter = new vscode.EventEmitter<SandboxStatus>();
  /** The engine's sandbox mode, each time an execution engine starts. */
  readonly onSandboxStatus = this.sandboxEmitter.event;
  /** Every block notification from the server. */
  readonly onBlocks = this.blocksEmitter.event;
  /** Fires after each (re)start, when requests can be sent. */
  readonly onDidStart = this.startedEmitter.event;
  private readonly trainingLogEmitter = new vscode.EventEmitter<TrainingLogParams>();
  private readonly trainingRunEmitter = new vscode.EventEmitter<TrainingRunView>();
  /** The pieces of followed training logs (by stream). */
  readonly onTrainingLog = this.trainingLogEmitter.event;
  /** A training run's status, step or metrics changed. */
  readonly onTrainingRunChanged = this.trainingRunEmitter.event;
  private readonly engineOutput: vscode.LogOutputChannel;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.engineOutput = vscode.window.createOutputChannel('PairForge Engine', { log: true });
  }

  /** The running client, starting it if needed; undefined when it cannot start (the user was told). */
  ready(): Promise<LanguageClient | undefined> {
    if (this.client?.state === State.Running) return Promise.resolve(this.client);
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** The running client or an error that says why there is none. */
  async require(): Promise<LanguageClient> {
    const c = await this.ready();
    if (!c) throw new Error(`the PairForge engine server is not running (runtime "${config.runtime()}"; see the "PairForge Engine" output)`);
    return c;
  }

  private async start(): Promise<LanguageClient | undefined> {
    const runtime = config.runtime();
    const folder = vscode.workspace.workspaceFolders?.[0];
    const cwd = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    const probe = await probeRuntime(runtime, { cwd });
    if (!probe.ok) {
      this.engineOutput.appendLine(runtimeErrorMessage(runtime, probe.reason));
      void showRuntimeError(runtime, probe.reason);
      return undefined;
    }
    this.engineOutput.appendLine(`starting the engine server with ${runtime} (Node.js ${probe.version}, ${probe.executable})`);
    this.startedWith = probe.executable;
    const module = this.context.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, runtime, transport: TransportKind.ipc },
      debug: { module, runtime, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    let running = false;
    let reported = false;
    const report = (reason: string) => {
      if (reported) return;
      reported = true;
      this.engineOutput.appendLine(runtimeErrorMessage(runtime, reason));
      void showRuntimeError(runtime, reason);
    };
    const crashes: number[] = [];
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: STORE_SCHEME, language: 'python' },
      ],
      outputChannel: this.engineOutput,
      initializationFailedHandler: (error) => {
        report(`initialisation failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          if (!running) {
            report('the server exited while starting (see the "PairForge Engine" output)');
            return { action: CloseAction.DoNotRestart, handled: true };
          }
          const now = Date.now();
          crashes.push(now);
          while (crashes.length && now - crashes[0] > RESTART_WINDOW_MS) crashes.shift();
          if (crashes.length <= MAX_RESTARTS) return { action: CloseAction.Restart, handled: true };
          void vscode.window
            .showErrorMessage(`PairForge: the engine server stopped ${crashes.length} times in 3 minutes and will not be restarted.`, 'Restart', 'Show Output')
            .then((pick) => {
              if (pick === 'Restart') void vscode.commands.executeCommand('pairforge.restartServer');
              else if (pick === 'Show Output') this.engineOutput.show();
            });
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient('pairforge', 'PairForge Engine', serverOptions, clientOptions);
    client.onNotification(BlocksNotification, (p) => this.blocksEmitter.fire(p));
    client.onNotification(SandboxStatusNotification, (s) => this.sandboxEmitter.fire(s));
    client.onNotification(TrainingLogNotification, (l) => this.trainingLogEmitter.fire(l));
    client.onNotification(TrainingRunChangedNotification, (r) => this.trainingRunEmitter.fire(r));
    client.onDidChangeState((e) => {
      if (e.newState !== State.Running) return;
      // After an automatic restart the new server process needs the settings again; the first
      // start sends them below, before anyone is told the server is up.
      if (running) void client.sendNotification(ConfigureNotification, config.engine());
      running = true;
    });
    this.client = client;
    try {
      await client.start();
    } catch (e) {
      this.client = undefined;
      this.startedWith = undefined;
      const reason = e instanceof Error ? e.message : String(e);
      this.engineOutput.appendLine(`engine server failed to start: ${reason}`);
      report(reason);
      return undefined;
    }
    await client.sendNotification(ConfigureNotification, config.engine());
    this.startedEmitter.fire();
    return client;
  }

  /** Whether the settings name another runtime than the server's, running or starting (or none
   * runs). VS Code reports settings as changed when they reach the extension host after it
   * started (code-server's user settings do, while the server starts with the default `node`):
   * the same program under another name needs no restart, and no question. */
  async needsRestart(): Promise<boolean> {
    if (this.startedWith === undefined) return true;
    const probe = await probeRuntime(config.runtime());
    return !probe.ok || probe.executable !== this.startedWith;
  }

  /** Pushes the current settings (project path, preset) to a running server. */
  async configure(): Promise<void> {
    if (this.client?.state === State.Running) await this.client.sendNotification(ConfigureNotification, config.engine());
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.startedWith = undefined;
    if (c && c.state !== State.Stopped) await c.stop().catch(() => undefined);
  }

  /** Stops and starts again with the current settings (a new runtime takes effect). */
  async restart(): Promise<boolean> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    return (await this.ready()) !== undefined;
  }

  dispose(): void {
    void this.stop();
    this.blocksEmitter.dispose();
    this.sandboxEmitter.dispose();
    this.startedEmitter.dispose();
    this.trainingLogEmitter.dispose();
    this.trainingRunEmitter.dispose();
    this.engineOutput.dispose();
  }
}

async function showRuntimeError(runtime: string, reason: string): Promise<void> {
  const pick = await vscode.window.showErrorMessage(runtimeErrorMessage(runtime, reason), 'Open Settings');
  if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'pairforge.server.runtime');
}
