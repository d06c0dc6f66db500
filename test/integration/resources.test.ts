// linux.resources through the container's own cgroup, observed from inside
// (the cgroup mount shows the container its cgroup) and from the host; and
// no cgroup left behind by delete or by a failed create. Runs on whatever
// cgroup layout the host has (hybrid here; pure v2 in the VM lane).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { Env, uniqueId } from '../helpers.js';

const t = suite('resources');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const v2 = !existsSync('/sys/fs/cgroup/memory');

t('memory, pids and cpu limits are in the container cgroup files', () => {
  const script = v2
    ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max'
    : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us';
  const r = env.sh(script, (c) => {
    c.linux.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 }, cpu: { quota: 50000, period: 100000 } };
  });
  assert.is(r.status, 0, r.stderr);
  const [mem, pids, cpu] = r.stdout.trim().split('\n');
  assert.is(mem, String(64 * 1024 * 1024));
  assert.is(pids, '50');
  assert.is(cpu, v2 ? '50000 100000' : '50000');
});

t('memory.kernelTCP: memory.kmem.tcp.limit_in_bytes on cgroup v1, a warning on v2', () => {
  const limit = 16 * 1024 * 1024;
  const file = '/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes';
  const r = env.sh(v2 ? 'true' : `cat ${file}`, (c) => {
    c.linux.resources = { memory: { limit: 64 * 1024 * 1024, kernelTCP: limit } };
  });
  assert.is(r.status, 0, r.stderr);
  const warned = r.stderr.split('\n').filter((l) => l.includes('kernelTCP'));
  if (v2 || !existsSync(file)) {
    assert.is(warned.length, 1, r.stderr);
    assert.match(warned[0]!, /level=warn(ing)? msg=".*\/linux\/resources\/memory\/kernelTCP: ignored: .*TCP kernel memory limit/);
  } else {
    assert.is(r.stdout, `${limit}\n`);
    assert.equal(warned, [], r.stderr);
  }
});

t('a pids limit makes fork fail', () => {
  const r = env.sh('for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done 2>&1; echo done', (c) => {
    c.linux.resources = { pids: { limit: 4 } };
  });
  assert.match(r.stdout + r.stderr, /can't fork|Resource temporarily unavailable/);
});

t('the device cgroup refuses a node the rules do not allow', () => {
  const r = env.sh('head -c1 /dev/mem >/dev/null 2>&1 && echo opened || echo refused; head -c1 /dev/zero | wc -c', (c) => {
    c.linux.devices = [{ path: '/dev/mem', type: 'c', major: 1, minor: 1, fileMode: 0o600 }];
    c.process.capabilities.bounding.push('CAP_SYS_RAWIO');
    c.process.capabilities.effective.push('CAP_SYS_RAWIO');
    c.process.capabilities.permitted.push('CAP_SYS_RAWIO');
    c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'refused\n1\n');
});

t('device rules with letters other than r, w and m: ignored with a warning, r/w/m still enforced', () => {
  // runc's own tests write "rwa"; the "a" means nothing and is dropped.
  // /dev/loop-control opens without capabilities, and no default rule covers it.
  if (!existsSync('/dev/loop-control')) return;
  const r = env.sh('(exec 3</dev/lc) 2>/dev/null && echo read || echo noread; (exec 3>/dev/lc) 2>/dev/null && echo write || echo nowrite', (c) => {
    c.linux.devices = [{ path: '/dev/lc', type: 'c', major: 10, minor: 237, fileMode: 0o666 }];
    c.linux.resources = {
      devices: [
        { allow: false, access: 'rwma' },
        { allow: true, type: 'c', major: 10, minor: 237, access: 'ra' },
      ],
    };
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'read\nnowrite\n');
  const warned = r.stderr.split('\n').filter((l) => l.includes('unknown letter'));
  assert.is(warned.length, 2, r.stderr);
  assert.match(warned[0]!, /level=warn(ing)? msg=".*config\.json: \/linux\/resources\/devices\/0\/access: \\"rwma\\": unknown letter 'a' ignored/);
  assert.match(warned[1]!, /devices\/1\/access: \\"ra\\": unknown letter 'a' ignored/);
});

t('delete removes the cgroup; a failed create leaves none', () => {
  const id = uniqueId('cg');
  const path = `/hako-test-${id}`;
  const dir = v2 ? `/sys/fs/cgroup${path}` : `/sys/fs/cgroup/memory${path}`;
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '100'];
    c.linux.cgroupsPath = path;
    c.linux.resources = { memory: { limit: 32 * 1024 * 1024 } };
  });
  assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
  assert.is(existsSync(dir), true);
  const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
  assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(path));
  assert.is(env.hako(['delete', '--force', id]).status, 0);
  assert.is(existsSync(dir), false);

  const bad = env.bundle((c) => {
    c.process.args = ['/nonexistent'];
    c.linux.cgroupsPath = path;
  });
  assert.is(env.hako(['create', '--bundle', bad, uniqueId('cgfail')]).status, 1);
  assert.is(existsSync(dir), false);

  // A nested path: the parents hako made for it go too (a parent that was
  // there before stays, as the host's own cgroups do).
  const nested = `${path}-parent/inner/leaf`;
  const badNested = env.bundle((c) => {
    c.process.args = ['/nonexistent'];
    c.linux.cgroupsPath = nested;
  });
  assert.is(env.hako(['create', '--bundle', badNested, uniqueId('cgfail')]).status, 1);
  const top = v2 ? `/sys/fs/cgroup${path}-parent` : `/sys/fs/cgroup/memory${path}-parent`;
  assert.is(existsSync(top), false, `${top} is left`);
});

t('the init and an exec process start in the container cgroup: cloned into it on cgroup v2, no cgroup fd inside', () => {
  // On pure v2 the launcher clones them into the cgroup (CLONE_INTO_CGROUP;
  // --debug says so); elsewhere hako moves them there. Either way the first
  // thing they run is already limited, and the fd of the cgroup directory
  // used for the clone never reaches the container.
  const id = uniqueId('into');
  const cgPath = `/hako-test-${id}`;
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '100'];
    c.linux.cgroupsPath = cgPath;
    c.linux.resources = { pids: { limit: 20 } };
  });
  const log = `${env.dir}/${id}.log`;
  try {
    const cr = env.hako(['--debug', '--log', log, 'create', '--bundle', b, id]);
    assert.is(cr.status, 0, cr.stderr);
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
    const mine = (p: number) => readFileSync(`/proc/${p}/cgroup`, 'utf8');
    assert.match(mine(pid), v2 ? new RegExp(`^0::${cgPath}$`, 'm') : new RegExp(`:pids:${cgPath}$`, 'm'));
    assert.is(env.hako(['start', id]).status, 0);
    const ex = env.hako(['--debug', '--log', log, 'exec', id, 'sh', '-c', 'cat /proc/self/cgroup; ls /proc/self/fd']);
    assert.is(ex.status, 0, ex.stderr);
    const lines = ex.stdout.trim().split('\n');
    // Inside, with a cgroup namespace or not, the path ends in the container's.
    assert.ok(
      lines.some((l) => (v2 ? /^0::/.test(l) : /:pids:/.test(l)) && (l.endsWith(cgPath) || l.endsWith(':/'))),
      ex.stdout,
    );
    assert.equal(
      lines.filter((l) => /^\d+$/.test(l)),
      ['0', '1', '2', '3'],
      "fds 0-2 and ls's own directory",
    );
    const said = readFileSync(log, 'utf8');
    if (v2) {
      assert.match(said, /the init was cloned into its cgroup \(CLONE_INTO_CGROUP\)/);
      assert.match(said, /the process was cloned into the container's cgroup \(CLONE_INTO_CGROUP\)/);
    } else {
      assert.not.match(said, /CLONE_INTO_CGROUP/);
    }
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('cgroupsPath errors name the JSON path', () => {
  const b = env.bundle((c) => (c.linux.cgroupsPath = '../../escape'));
  const r = env.hako(['create', '--bundle', b, uniqueId('cgbad')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /\/linux\/cgroupsPath/);
});

t.run();
