/**
 * Writes an image as a docker archive (what `docker save` writes and `ctr images import` reads): one
 * uncompressed tarball per layer, an image config and manifest.json naming the image. Layers are made
 * reproducible: sorted entries, every mtime 0, every file owned by root.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string;
  expose: string[];
  entrypoint: string[];
  cmd?: string[];
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A tarball of everything under `dir`, entries named without a leading `./`. */
function tarLayer(dir: string, out: string): void {
  const entries = readdirSync(dir).sort();
  execFileSync('tar', [
    '--create',
    '--file',
    out,
    '--format=gnu',
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--directory',
    dir,
    ...entries,
  ]);
}

/** Writes `name` (e.g. ghcr.io/stowage/stowage:0.1.0) with the given layer directories to `out`. */
export function writeDockerArchive(
  out: string,
  name: string,
  layerDirs: string[],
  config: ImageConfig,
): void {
  const work = mkdtempSync(join(dirname(out), '.archive-'));
  try {
    const layers = layerDirs.map((dir, i) => {
      const tmp = join(work, `layer-${i}.tar`);
      tarLayer(dir, tmp);
      const digest = sha256File(tmp);
      mkdirSync(join(work, digest));
      renameSync(tmp, join(work, digest, 'layer.tar'));
      return digest;
    });
    const imageConfig = {
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: [`PATH=${PATH}`, ...Object.entries(config.env).map(([k, v]) => `${k}=${v}`)],
        WorkingDir: config.workdir,
        User: config.user,
        ExposedPorts: Object.fromEntries(config.expose.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])),
        Entrypoint: config.entrypoint,
        ...(config.cmd ? { Cmd: config.cmd } : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((d) => `sha256:${d}`) },
      history: layers.map(() => ({ created_by: 'make image' })),
    };
    const configJson = JSON.stringify(imageConfig);
    const configName = `${createHash('sha256').update(configJson).digest('hex')}.json`;
    writeFileSync(join(work, configName), configJson);
    writeFileSync(
      join(work, 'manifest.json'),
      JSON.stringify([{ Config: configName, RepoTags: [name], Layers: layers.map((d) => `${d}/layer.tar`) }]),
    );
    tarLayer(work, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
