// Commands that need no container: version, help, spec, features.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('cli');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

t("--version has runc's three lines and works with an empty environment", () => {
  const r = spawnSync(HAKO, ['--version'], { env: {}, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^hako version \d+\.\d+\.\d+/);
  assert.match(lines[1]!, /^commit: \S+/);
  assert.is(lines[2], 'spec: 1.3.0');
});

t('state works with an empty environment (podman calls it so)', () => {
  const r = spawnSync(HAKO, ['--root', env.root, 'state', 'nope'], { env: {}, encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /does not exist/);
});

t('help and usage errors', () => {
  assert.match(env.hako(['--help']).stdout, /USAGE/);
  assert.match(env.hako(['help', 'create']).stdout, /--bundle value, -b value/);
  const bad = env.hako(['create']);
  assert.is(bad.status, 1);
  const unknown = env.hako(['create', '--frobnicate', 'x']);
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, /flag provided but not defined: -frobnicate/);
});

t("checkpoint --help and restore --help fail: podman's probe for checkpoint support", () => {
  for (const cmd of ['checkpoint', 'restore']) {
    const r = env.hako([cmd, '--help']);
    assert.is(r.status, 1, `${cmd} --help`);
    assert.is(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^hako: ${cmd} is not supported`));
  }
  // The help command still describes them.
  assert.match(env.hako(['help', 'checkpoint']).stdout, /--image-path value/);
});

t("spec writes runc's default config, and refuses to overwrite", () => {
  const dir = path.join(env.dir, uniqueId('spec'));
  mkdirSync(dir);
  assert.is(env.hako(['spec', '--bundle', dir]).status, 0);
  const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.is(c.process.terminal, true);
  assert.equal(c.process.args, ['sh']);
  assert.ok(c.linux.namespaces.some((n: any) => n.type === 'mount'));
  assert.ok(c.linux.maskedPaths.includes('/proc/kcore'));
  assert.is(env.hako(['spec', '--bundle', dir]).status, 1);
  const rl = path.join(env.dir, uniqueId('rootless'));
  mkdirSync(rl);
  assert.is(env.hako(['spec', '--rootless', '--bundle', rl]).status, 0);
  const r = JSON.parse(readFileSync(path.join(rl, 'config.json'), 'utf8'));
  assert.ok(r.linux.namespaces.some((n: any) => n.type === 'user'));
  assert.ok(r.linux.uidMappings.length === 1);
});

t('features is a valid document naming what hako supports', () => {
  const f = JSON.parse(execFileSync(HAKO, ['features'], { encoding: 'utf8' }));
  assert.is(f.ociVersionMax, '1.3.0');
  assert.equal(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.ok(f.linux.namespaces.includes('time'));
  assert.ok(f.mountOptions.includes('rro'));
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  // Both hierarchies and the systemd driver are driven (src/cgroups).
  assert.equal(f.linux.cgroup, { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true });
  assert.ok(f.mountOptions.includes('acl') && f.mountOptions.includes('noacl'));
  assert.equal(f.linux.netDevices, { enabled: true });
});

t('a successful command prints nothing on stderr', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('quiet');
  for (const args of [
    ['create', '--bundle', b, id],
    ['state', id],
    ['start', id],
    ['kill', id, '9'],
  ]) {
    const r = env.hako(args);
    assert.is(r.status, 0, args.join(' '));
    assert.is(r.stderr, '', args.join(' '));
  }
  for (let i = 0; i < 200 && JSON.parse(env.hako(['state', id]).stdout).status !== 'stopped'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  const d = env.hako(['delete', id]);
  assert.is(d.stderr, '');
});

t.run();
