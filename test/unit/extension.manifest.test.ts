// package.json `contributes` against what the extension code and the contract expect.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORE_KINDS, EXTRA_KINDS } from '../../server/blocks/types';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const commandsSource = readFileSync(path.join(root, 'extension/commands.ts'), 'utf8');

describe('extension manifest', () => {
  const ids: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

  it('contributes the contract commands in the PairForge category, each with an activation event and a handler', () => {
    expect(ids.sort()).toEqual(
      ['pairforge.importDataset', 'pairforge.refreshDatasets', 'pairforge.restartServer', 'pairforge.showStats', 'pairforge.toggleBlockHighlights'].sort(),
    );
    for (const c of pkg.contributes.commands) expect(c.category).toBe('PairForge');
    for (const id of ids) {
      expect(pkg.activationEvents).toContain(`onCommand:${id}`);
      expect(commandsSource).toContain(`'${id}':`);
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
    expect(pkg.contributes.views.pairforge.map((v: { id: string }) => v.id)).toEqual(['pairforge.datasets']);
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
});
