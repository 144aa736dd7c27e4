// package.json `contributes` against what the extension code and the contract expect.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMPARATORS,
  CORE_KINDS,
  DEFAULT_COMPARATOR,
  DEFAULT_FAMILY,
  DEFAULT_PRESET,
  DEFAULT_PROJECT_PATH,
  DEFAULT_RUNTIME,
  EXEC_DEFAULTS,
  EXTRA_KINDS,
  LENS_COMMANDS,
  PRESETS,
  SAMPLING_FAMILIES,
  SETTINGS,
} from '../../../server/protocol';
import { MILESTONES } from '../../../extension/milestones';
import { root } from '../../support/paths';

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const commandsSource = readFileSync(path.join(root, 'extension/commands.ts'), 'utf8');

describe('extension manifest', () => {
  const ids: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

  it('contributes the contract commands in the PairForge category, each with an activation event and a handler', () => {
    expect(ids.sort()).toEqual(
      [
        'pairforge.importDataset', 'pairforge.refreshDatasets', 'pairforge.restartServer', 'pairforge.showStats', 'pairforge.toggleBlockHighlights',
        'pairforge.runTests', 'pairforge.linkFileToProblem', 'pairforge.sampleBlock', 'pairforge.sampleFile', 'pairforge.showSamples',
        'pairforge.refreshSamples', 'pairforge.cutTargets', 'pairforge.setEndpointApiKey', 'pairforge.checkEndpoints', 'pairforge.refreshPairs',
        'pairforge.acceptPair', 'pairforge.rejectPair', 'pairforge.flagPair', 'pairforge.resetPair',
        'pairforge.reviewPairs', 'pairforge.buildPairs', 'pairforge.exportPairs', 'pairforge.scorePairs', 'pairforge.openDashboard',
        'pairforge.sendToTraining', 'pairforge.prepareTrainingHost', 'pairforge.refreshTrainingRuns', 'pairforge.followTrainingRun',
        'pairforge.stopTrainingRun', 'pairforge.showTrainingMetrics',
      ].sort(),
    );
    for (const c of pkg.contributes.commands) expect(c.category).toBe('PairForge');
    for (const id of ids) {
      expect(pkg.activationEvents).toContain(`onCommand:${id}`);
      const lens = Object.entries(LENS_COMMANDS).find(([, v]) => v === id)?.[0];
      const constant = lens ? `LENS_COMMANDS.${lens}` : { 'pairforge.checkEndpoints': 'CHECK_ENDPOINTS_COMMAND' }[id];
      expect(commandsSource).toContain(constant ? `[${constant}]:` : `'${id}':`);
    }
    for (const e of ['onLanguage:python', 'onView:pairforge.datasets', 'workspaceContains:.pairforge/project.sqlite']) expect(pkg.activationEvents).toContain(e);
  });

  it('has a typed configuration with the contract defaults', () => {
    const p = pkg.contributes.configuration.properties;
    expect(p['pairforge.server.runtime']).toMatchObject({ type: 'string', default: 'node' });
    expect(p['pairforge.project.path']).toMatchObject({ type: 'string', default: '.pairforge/project.sqlite' });
    expect(p['pairforge.blocks.preset']).toMatchObject({ enum: ['structurecoder', 'clean'], default: 'structurecoder' });
    expect(p['pairforge.blocks.extraKinds'].items.enum).toEqual([...EXTRA_KINDS]);
    expect(p['pairforge.blocks.highlight']).toMatchObject({ type: 'boolean', default: true });
    expect(p['pairforge.trace.server'].enum).toEqual(['off', 'messages', 'verbose']);
  });

  it('declares the view container, view, theme colours and gutter icons that exist', () => {
    const container = pkg.contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'pairforge');
    expect(existsSync(path.join(root, container.icon))).toBe(true);
    expect(pkg.contributes.views.pairforge.map((v: { id: string }) => v.id)).toEqual(['pairforge.datasets', 'pairforge.samples', 'pairforge.pairs', 'pairforge.trainingRuns']);
    expect(pkg.contributes.viewsWelcome[0].contents).toContain('command:pairforge.importDataset');
    const colours = pkg.contributes.colors.map((c: { id: string }) => c.id);
    expect(colours).toEqual([1, 2, 3, 4].map((d) => `pairforge.blockDepth${d}Background`));
    for (const c of pkg.contributes.colors) {
      for (const theme of ['dark', 'light', 'highContrast']) expect(c.defaults[theme]).toMatch(/^#[0-9a-f]{6}[0-9a-f]{2}$/); // translucent
    }
    for (const kind of [...CORE_KINDS, ...EXTRA_KINDS]) {
      const svg = readFileSync(path.join(root, 'media/gutter', `${kind}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 16 16"/);
    }
  });

  it('runs no code in an untrusted workspace and takes risky settings from trusted sources only', () => {
    const u = pkg.capabilities.untrustedWorkspaces;
    expect(u.supported).toBe('limited');
    for (const k of ['pairforge.server.runtime', 'pairforge.sampling.endpoints', 'pairforge.exec.allowUnsandboxed']) expect(u.restrictedConfigurations).toContain(k);
    const run = pkg.contributes.commands.find((c: { command: string }) => c.command === 'pairforge.runTests');
    expect(run.enablement).toBe('isWorkspaceTrusted');
    const extSource = readFileSync(path.join(root, 'extension/testRuns.ts'), 'utf8');
    expect(extSource).toContain('vscode.workspace.isTrusted');
  });

  it('has typed execution and sampling settings with the published defaults and no default endpoint', () => {
    const p = pkg.contributes.configuration.properties;
    expect(p['pairforge.exec.testTimeoutMs']).toMatchObject({ type: 'integer', default: 5000 });
    expect(p['pairforge.exec.memoryMB']).toMatchObject({ type: 'integer', default: 2048 });
    expect(p['pairforge.exec.outputKB']).toMatchObject({ type: 'integer', default: 1024 });
    expect(p['pairforge.exec.comparator']).toMatchObject({ enum: ['strict', 'apps'], default: 'strict' });
    expect(p['pairforge.exec.allowUnsandboxed']).toMatchObject({ type: 'boolean', default: false, scope: 'machine' });
    expect(p['pairforge.sampling.endpoints']).toMatchObject({ type: 'array', default: [] });
    expect(p['pairforge.sampling.family'].default).toBe('qwen2.5-coder');
    expect([p['pairforge.sampling.n'].default, p['pairforge.sampling.temperature'].default, p['pairforge.sampling.topP'].default, p['pairforge.sampling.maxTokens'].default]).toEqual([5, 0.7, 0.95, 512]);
    // API keys live in SecretStorage, never in a setting.
    expect(Object.keys(p).filter((k) => /apikey|api_key|secret|password|\.key$/i.test(k))).toEqual([]);
  });

  it('registers every command the server code lenses invoke', () => {
    for (const id of Object.values(LENS_COMMANDS)) expect(ids).toContain(id);
  });

  it('puts accept / reject / flag on pair rows (inline and context menu)', () => {
    const items = pkg.contributes.menus['view/item/context'];
    for (const id of ['pairforge.acceptPair', 'pairforge.rejectPair', 'pairforge.flagPair']) {
      const where = items.filter((m: { command: string }) => m.command === id);
      expect(where.some((m: { group: string }) => m.group.startsWith('inline'))).toBe(true);
      expect(where.some((m: { group: string }) => !m.group.startsWith('inline'))).toBe(true);
      for (const m of where) expect(m.when).toContain('view == pairforge.pairs');
    }
  });
});

describe('the walkthrough', () => {
  const walkthrough = pkg.contributes.walkthroughs.find((w: { id: string }) => w.id === 'pairforge.gettingStarted');
  const steps: { id: string; description: string; media: { markdown?: string }; completionEvents: string[] }[] = walkthrough.steps;
  const sources = ['extension.ts', 'commands.ts', 'sampling.ts', 'pairCommands.ts', 'review.ts', 'endpoints.ts', 'trainingTask.ts'].map((f) => readFileSync(path.join(root, 'extension', f), 'utf8')).join('\n');

  it('leads through the loop in order, each step with its page', () => {
    expect(steps.map((s) => s.id)).toEqual(['endpoint', 'import', 'sample', 'pairs', 'review', 'score', 'train', 'dashboard']);
    for (const s of steps) {
      expect(s.media.markdown, s.id).toBeDefined();
      expect(existsSync(path.join(root, s.media.markdown!)), s.media.markdown).toBe(true);
    }
    expect(readFileSync(path.join(root, '.vscodeignore'), 'utf8')).toContain('!media/walkthrough/**');
  });

  it('completes each step on a real event: a milestone the extension reaches, or a command', () => {
    const keys = Object.values(MILESTONES) as string[];
    for (const s of steps) {
      expect(s.completionEvents.length, s.id).toBeGreaterThan(0);
      for (const e of s.completionEvents) {
        const m = /^onContext:(.+)$/.exec(e);
        if (m) expect(keys, `${s.id}: ${e}`).toContain(m[1]);
        else expect(e, s.id).toMatch(/^onCommand:pairforge\.[a-zA-Z]+$/);
      }
    }
    // Every milestone is reached somewhere in the extension.
    for (const [name, key] of Object.entries(MILESTONES)) {
      expect(sources, `${name} (${key})`).toContain(`reached('${name}')`);
      expect(steps.some((s) => s.completionEvents.includes(`onContext:${key}`)), key).toBe(true);
    }
  });

  it('links only commands that exist', () => {
    const ids: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);
    for (const s of steps) {
      for (const [, id] of s.description.matchAll(/\(command:([a-zA-Z.]+)/g)) {
        if (id.startsWith('workbench.') || id === 'pairforge.datasets.focus') continue;
        expect(ids, `${s.id} links ${id}`).toContain(id);
      }
    }
  });
});

describe('settings schema and server/protocol/settings.ts', () => {
  const props = pkg.contributes.configuration.properties as Record<string, Record<string, unknown>>;

  it('every numeric setting has the same type, default and bounds in both', () => {
    const numeric = Object.entries(props).filter(([, v]) => v.type === 'integer' || v.type === 'number');
    expect(numeric.map(([k]) => k.replace(/^pairforge\./, '')).sort()).toEqual(Object.keys(SETTINGS).sort());
    for (const [key, bounds] of Object.entries(SETTINGS)) {
      const schema = props[`pairforge.${key}`];
      expect({ type: schema.type, default: schema.default, minimum: schema.minimum, maximum: schema.maximum }, key).toEqual({ ...bounds });
      expect(schema.exclusiveMinimum, key).toBeUndefined();
    }
  });

  it('choices and defaults of the other shared settings are the protocol\'s', () => {
    expect(props['pairforge.blocks.preset']).toMatchObject({ enum: [...PRESETS], default: DEFAULT_PRESET });
    expect((props['pairforge.blocks.extraKinds'].items as { enum: string[] }).enum).toEqual([...EXTRA_KINDS]);
    expect(props['pairforge.exec.comparator']).toMatchObject({ enum: [...COMPARATORS], default: DEFAULT_COMPARATOR });
    expect(props['pairforge.sampling.family']).toMatchObject({ enum: [...SAMPLING_FAMILIES], default: DEFAULT_FAMILY });
    expect(props['pairforge.server.runtime'].default).toBe(DEFAULT_RUNTIME);
    expect(props['pairforge.project.path'].default).toBe(DEFAULT_PROJECT_PATH);
    expect(props['pairforge.exec.allowUnsandboxed'].default).toBe(EXEC_DEFAULTS.allowUnsandboxed);
  });
});
