/**
 * `make image`: the Stowage image and the pod sandbox's pause image, built without a container engine
 * or a registry, written as docker archives for `ctr images import`:
 *
 *   tsx scripts/image/main.ts --out dist/images --name ghcr.io/stowage/stowage:0.1.0 \
 *     --pause .tools/bin/pause --pause-name stowage.local/pause:v1.34.4
 *
 * The Dockerfile is the recipe: its build stage's COPY and RUN lines are replayed in order in a
 * scratch copy of the repository, and its final stage gives the layout and the image config. The base
 * is made from Debian packages (base.ts) instead of NODE_IMAGE.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeDockerArchive } from './archive.ts';
import { makeBase } from './base.ts';
import { copies, parseDockerfile, type Copy, type Stage } from './dockerfile.ts';

const root = resolve(import.meta.dirname, '../..');
const log = (message: string) => console.error(`[image] ${message}`);

// The `**/name` lines of .dockerignore as a test on base names: the only form it uses in the copied trees.
function ignoredNames(): (name: string) => boolean {
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('**/'))
    .map((line) => new RegExp(`^${line.slice(3).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`));
  return (name) => patterns.some((p) => p.test(name));
}

/** Where COPY puts one source: into `dest` when it names a directory (trailing slash), else as `dest`. */
function copyTarget(dir: string, workdir: string, copy: Copy, source: string): string {
  const dest = join(dir, copy.dest.startsWith('/') ? copy.dest : join(workdir, copy.dest));
  return copy.dest.endsWith('/') || copy.sources.length > 1 ? join(dest, basename(source)) : dest;
}

/** Replays the build stage in `dir` (standing for its WORKDIR): COPY from the repository, RUN with sh. */
function runBuildStage(stage: Stage, dir: string): void {
  const ignored = ignoredNames();
  for (const step of stage.steps) {
    if (step.kind === 'run') {
      log(`RUN ${step.command}`);
      execFileSync('sh', ['-c', step.command], { cwd: dir, stdio: 'inherit' });
      continue;
    }
    if (step.from) throw new Error(`make image cannot replay COPY --from in the build stage`);
    for (const source of step.sources) {
      const target = copyTarget(dir, '/', step, source);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(root, source), target, {
        recursive: true,
        filter: (src) => !ignored(basename(src)),
      });
    }
  }
}

/** The final stage may RUN only the creation of its user, which base.ts does by writing /etc/passwd. */
function finalUser(stage: Stage): { name: string; uid: number; gid: number } {
  const [uid, gid] = (stage.user ?? '').split(':').map(Number);
  const commands = stage.steps.filter((s) => s.kind === 'run');
  const useradd = commands.map((s) => /useradd .*--uid (\d+) .*?(\S+)$/.exec(s.command)).find(Boolean);
  if (
    commands.length !== 1 ||
    !useradd ||
    Number(useradd[1]) !== uid ||
    uid === undefined ||
    gid === undefined
  )
    throw new Error(
      'make image expects the final stage to RUN only groupadd/useradd of its numeric USER uid:gid',
    );
  return { name: useradd[2]!, uid, gid };
}

function buildStowage(out: string, name: string, work: string): void {
  const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const build = dockerfile.stages.find((s) => s.name === 'build');
  const final = dockerfile.stages.at(-1);
  if (!build || !final || final === build)
    throw new Error('Dockerfile: expected a build stage and a final stage');
  const src = join(work, 'src');
  mkdirSync(src);
  runBuildStage(build, src);

  const base = join(work, 'base');
  mkdirSync(base);
  const made = makeBase(base, src, finalUser(final));
  log(`base: node ${made.nodeVersion} and ${made.packages.join(', ')}`);

  const app = join(work, 'app');
  for (const copy of copies(final)) {
    if (copy.from !== build.name) throw new Error(`make image copies only from the build stage`);
    for (const source of copy.sources) {
      const target = copyTarget(app, final.workdir, copy, source);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(src, relative(build.workdir, source)), target, { recursive: true, verbatimSymlinks: true });
    }
  }
  if (!final.entrypoint || !final.user)
    throw new Error('Dockerfile: the final stage needs USER and ENTRYPOINT');
  writeDockerArchive(out, name, [base, app], {
    env: final.env,
    workdir: final.workdir,
    user: final.user,
    expose: final.expose,
    entrypoint: final.entrypoint,
  });
}

function buildPause(out: string, name: string, binary: string, work: string): void {
  const dir = join(work, 'pause');
  mkdirSync(dir);
  cpSync(binary, join(dir, 'pause'));
  writeDockerArchive(out, name, [dir], {
    env: {},
    workdir: '/',
    user: '65535:65535',
    expose: [],
    entrypoint: ['/pause'],
  });
}

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'dist/images') },
    name: { type: 'string' },
    pause: { type: 'string' },
    'pause-name': { type: 'string' },
  },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(out, '.work-'));
try {
  if (values.name) {
    const started = Date.now();
    buildStowage(join(out, 'stowage.tar'), values.name, work);
    log(`${values.name} → ${join(out, 'stowage.tar')} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  if (values.pause && values['pause-name']) {
    buildPause(join(out, 'pause.tar'), values['pause-name'], values.pause, work);
    log(`${values['pause-name']} → ${join(out, 'pause.tar')}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
