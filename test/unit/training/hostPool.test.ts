// One ssh ControlMaster per host: the pool hands out one connection per host, ssh config and
// options, whatever connect timeout a caller waits with (the send, and following, polling and
// stopping a run, each ask with their own).
import { afterEach, describe, expect, it } from 'vitest';
import { HostPool } from '../../../server/training/ssh';

const pool = new HostPool();
afterEach(async () => {
  await pool.closeAll();
});

describe('HostPool', () => {
  it('gives one connection per host, config and options, whatever the connect timeout', () => {
    const a = pool.get({ host: 'gpu1', options: [], connectTimeoutSeconds: 15 });
    expect(pool.get({ host: 'gpu1', options: [], connectTimeoutSeconds: 40 })).toBe(a);
    expect(pool.get({ host: 'gpu2', options: [], connectTimeoutSeconds: 15 })).not.toBe(a);
    expect(pool.get({ host: 'gpu1', config: '/tmp/ssh_config', options: [], connectTimeoutSeconds: 15 })).not.toBe(a);
    expect(pool.get({ host: 'gpu1', options: ['-o', 'Port=2222'], connectTimeoutSeconds: 15 })).not.toBe(a);
  });
});
