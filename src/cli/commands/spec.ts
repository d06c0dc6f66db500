// `hako spec`: write a starter config.json into a bundle directory.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HakoError, systemReason } from '../../errors.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import type { Command } from '../command.js';

export const SPEC_FLAGS = [
  f({ name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' }),
  f({ name: 'rootless', type: 'bool', help: 'generate a configuration for a rootless container' }),
] as const satisfies readonly FlagSpec[];

export interface SpecOptions {
  bundle: string;
  rootless: boolean;
}

export type _SpecTableMatchesInterface = Assert<Equal<SpecOptions, OptionsOf<typeof SPEC_FLAGS>>>;

export const specCommand: Command<SpecOptions> = {
  name: 'spec',
  usage: 'create a new specification file',
  argsUsage: '',
  description: `The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

EXAMPLE:
  To run docker's hello-world container one needs to set the args parameter
in the spec to call hello. This can be done using the sed command or a text
editor. The following commands create a bundle for hello-world, change the
default args parameter in the spec from "sh" to "/hello", then run the hello
command in a new hello-world container named container1:

    mkdir hello
    cd hello
    docker pull hello-world
    docker export $(docker create hello-world) > hello-world.tar
    mkdir rootfs
    tar -C rootfs -xf hello-world.tar
    hako spec
    sed -i 's;"sh";"/hello";' config.json
    hako run container1

In the run command above, "container1" is the name for the instance of the
container that you are starting. The name you provide for the container instance
must be unique on your host.

You can pass the parameter --rootless to this command to generate a spec file
for a rootless container. --rootless is not needed when you execute hako as
root in a user namespace created by an unprivileged user.`,
  flags: SPEC_FLAGS,
  arity: { exact: 0 },
  pathFlags: [['bundle', '--bundle', '.']],
  async run(_ctx, inv) {
    const { defaultSpec, specJson } = await import('../../spec/default.js');
    const dir = inv.options.bundle || '.';
    bundleDirectory(dir);
    const file = path.join(dir, 'config.json');
    if (existsSync(file)) throw new HakoError(`File ${file} exists. Remove it first`, 'usage');
    try {
      writeFileSync(file, specJson(defaultSpec({ rootless: inv.options.rootless })));
    } catch (e) {
      throw new HakoError(`cannot write ${file}: ${systemReason(e)}`);
    }
    return 0;
  },
};

/** spec's --bundle must be a directory that exists (runc's chdir into it fails otherwise). */
function bundleDirectory(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new HakoError(`bundle directory ${dir}: ${systemReason(e)}`);
  }
  if (!isDir) throw new HakoError(`bundle directory ${dir}: not a directory`);
}
