// The client <-> engine contract: the domain vocabulary, the settings' defaults and bounds, and
// every message with its direction. Imports nothing else of ours (a test checks it), so the
// extension, the webviews and every stage can depend on it without pulling engine code in.
export * from './vocabulary';
export * from './settings';
export * from './messages';
