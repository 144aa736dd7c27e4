// Sampling endpoints: the list from `pairforge.sampling.endpoints`, their API keys from VS Code's
// SecretStorage (never settings, never logs), and a status bar item with their health, checked by
// the engine server (GET /health and /v1/models) when the list changes, every
// `pairforge.sampling.healthIntervalSeconds`, and when the item is clicked.
import * as vscode from 'vscode';
import { EndpointHealthRequest, type EndpointConfig, type EndpointHealth } from '../server/protocol';
import type { EngineClient } from './client';
import { config, SECTION } from './config';
import { apiKeySecretName } from './settingsValues';
import { healthSummary } from './samplingText';
import { reached } from './walkthrough';

export const CHECK_ENDPOINTS_COMMAND = 'pairforge.checkEndpoints';

export class Endpoints implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private checking: Promise<EndpointHealth[]> | undefined;
  private reportedProblems = '';
  private warnedTrace = false;

  constructor(
    private readonly engine: EngineClient,
    private readonly secrets: vscode.SecretStorage,
  ) {
    this.item = vscode.window.createStatusBarItem('pairforge.endpoints', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'PairForge Endpoints';
    this.item.command = CHECK_ENDPOINTS_COMMAND;
    this.disposables.push(
      this.item,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.sampling.endpoints`) || e.affectsConfiguration(`${SECTION}.sampling.healthIntervalSeconds`)) this.restart();
      }),
      secrets.onDidChange((e) => {
        if (e.key.startsWith('pairforge.apiKey:')) void this.check();
      }),
    );
  }

  /** Starts the periodic check (after the engine is up). */
  restart(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const { endpoints } = config.endpoints();
    if (endpoints.length === 0) {
      this.item.text = '$(circle-slash) PairForge: no endpoints';
      this.item.tooltip = 'No sampling endpoints: add {"url", "model"} entries to the setting pairforge.sampling.endpoints';
      this.item.command = { title: 'Open Settings', command: 'workbench.action.openSettings', arguments: ['pairforge.sampling.endpoints'] };
      this.item.backgroundColor = undefined;
      this.item.show();
      return;
    }
    this.item.command = CHECK_ENDPOINTS_COMMAND;
    void this.check();
    const every = config.healthIntervalSeconds();
    if (every > 0) this.timer = setInterval(() => void this.check(), every * 1000);
  }

  /** The configured endpoints with their API keys (for a request to the server). Entries the
   * settings got wrong are reported once per distinct list of problems. */
  async withKeys(): Promise<EndpointConfig[]> {
    const { endpoints, problems } = config.endpoints();
    const text = problems.join('; ');
    if (text && text !== this.reportedProblems) void vscode.window.showWarningMessage(`PairForge: ignoring sampling endpoints: ${text}`);
    this.reportedProblems = text;
    // A verbose trace writes every request's parameters to the "PairForge Engine" output: keys
    // are not sent while it is on (the request goes without them and the server says 401).
    if (config.traceServer() === 'verbose') {
      if (!this.warnedTrace) void vscode.window.showWarningMessage('PairForge: API keys are not sent to the engine while pairforge.trace.server is "verbose" (the trace would write them to the output).');
      this.warnedTrace = true;
      return endpoints.map((e) => ({ ...e }));
    }
    this.warnedTrace = false;
    return Promise.all(
      endpoints.map(async (e) => {
        const apiKey = await this.secrets.get(apiKeySecretName(e.url));
        return apiKey ? { ...e, apiKey } : { ...e };
      }),
    );
  }

  /** An endpoint with its stored API key (when there is one, and the trace would not write it). */
  async withKey<E extends { url: string; model: string }>(e: E): Promise<E & { apiKey?: string }> {
    if (config.traceServer() === 'verbose') return { ...e };
    const apiKey = await this.secrets.get(apiKeySecretName(e.url));
    return apiKey ? { ...e, apiKey } : { ...e };
  }

  /** Checks every endpoint now and updates the status bar item. */
  check(): Promise<EndpointHealth[]> {
    this.checking ??= this.doCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async doCheck(): Promise<EndpointHealth[]> {
    const endpoints = await this.withKeys();
    if (endpoints.length === 0) {
      this.restart();
      return [];
    }
    const client = await this.engine.ready();
    if (!client) {
      this.item.text = '$(warning) PairForge: engine not running';
      this.item.show();
      return [];
    }
    this.item.text = '$(sync~spin) PairForge: checking endpoints';
    this.item.show();
    try {
      const health = await client.sendRequest(EndpointHealthRequest, { endpoints });
      const s = healthSummary(health);
      if (s.ok > 0) reached('endpoint');
      this.item.text = s.text;
      this.item.tooltip = new vscode.MarkdownString(s.tooltip);
      this.item.backgroundColor = s.ok === health.length ? undefined : new vscode.ThemeColor(s.ok === 0 ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
      return health;
    } catch (e) {
      this.item.text = '$(error) PairForge: health check failed';
      this.item.tooltip = e instanceof Error ? e.message : String(e);
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      return [];
    }
  }

  /** "Set Endpoint API Key...": picks a configured endpoint (or takes a URL) and stores its key. */
  async setApiKey(arg?: unknown): Promise<void> {
    const { endpoints } = config.endpoints();
    let url = typeof arg === 'string' ? arg : undefined;
    if (!url) {
      if (endpoints.length === 0) throw new Error('no sampling endpoints configured: add one to pairforge.sampling.endpoints first');
      const urls = [...new Set(endpoints.map((e) => e.url))];
      url = urls.length === 1 ? urls[0] : await vscode.window.showQuickPick(urls, { title: 'PairForge: API key for which endpoint?' });
      if (!url) return;
    }
    const key = await vscode.window.showInputBox({
      title: `PairForge: API key for ${url}`,
      prompt: 'Stored in VS Code\'s secret storage (not in settings). Leave empty to remove the stored key.',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    if (key === '') {
      await this.secrets.delete(apiKeySecretName(url));
      void vscode.window.showInformationMessage(`PairForge: API key for ${url} removed.`);
    } else {
      await this.secrets.store(apiKeySecretName(url), key);
      void vscode.window.showInformationMessage(`PairForge: API key for ${url} stored.`);
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
