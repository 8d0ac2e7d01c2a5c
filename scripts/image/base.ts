/**
 * The image's base: the `node` binary running this build (make's, of the major in .nvmrc: the
 * project-local one in .tools/node when the machine's is older), and every Debian package installed
 * here that provides a shared library `ldd` lists for node or for a native addon in node_modules (glibc,
 * libstdc++, libgcc...). The packages' files are copied to the same paths (the usr-merged layout: /lib
 * is a link to usr/lib, as on the host), docs and manuals left out; node goes to /usr/local/bin, where
 * the official node images have it.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

const USR_MERGE = { bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' };
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const SKIPPED = /^\/usr\/share\/(doc|man|info|locale|lintian|bug)\//;

function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

/** Native code under `dir` for glibc: node addons and shared libraries (musl builds are never loaded). */
function nativeFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const native = /\.(node|so)(\.\d+)*$/.test(entry.name) && !/musl/.test(path);
    if (entry.isFile() && native && isElf(path)) found.push(path);
  }
  return found;
}

/** The system libraries a binary loads, as `ldd` resolves them (those bundled beside it excluded). */
function systemLibraries(binary: string, bundled: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const missing = out.split('\n').filter((line) => line.includes('not found'));
  if (missing.length > 0)
    throw new Error(`${binary} needs libraries this machine lacks:\n${missing.join('\n')}`);
  return [...out.matchAll(/(\/\S+) \(0x/g)]
    .map((m) => realpathSync(m[1]!))
    .filter((lib) => !lib.startsWith(bundled));
}

function packageOf(file: string): string {
  // dpkg knows a file by the path its package ships, which may be the /lib or the /usr/lib spelling.
  for (const path of [file, file.replace(/^\/usr\//, '/')]) {
    try {
      return execFileSync('dpkg-query', ['--search', path], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split(':')[0]!;
    } catch {
      // not under this spelling
    }
  }
  throw new Error(`${file} belongs to no Debian package`);
}

function packageFiles(pkg: string): string[] {
  return execFileSync('dpkg-query', ['--listfiles', pkg], { encoding: 'utf8' })
    .split('\n')
    .filter((path) => path.startsWith('/') && !SKIPPED.test(path) && existsSync(path))
    .filter((path) => !lstatSync(path).isDirectory());
}

/** Copies a host file to the same path under `root`, a symlink as the link itself. */
function copyHostFile(path: string, root: string): void {
  const dest = join(root, realpathSync(dirname(path)), basename(path));
  mkdirSync(dirname(dest), { recursive: true });
  // Not cpSync for links: on Node 24 it follows the source link and refuses to put a directory
  // (/lib → usr/lib) in place of the link already at dest (the usr-merge link made above).
  if (lstatSync(path).isSymbolicLink()) {
    rmSync(dest, { force: true });
    symlinkSync(readlinkSync(path), dest);
  } else cpSync(path, dest, { preserveTimestamps: true });
}

export interface Base {
  packages: string[];
  nodeVersion: string;
}

/** Fills `root` with the base for the application in `appDir`; returns what went into it. */
export function makeBase(
  root: string,
  appDir: string,
  users: { name: string; uid: number; gid: number },
): Base {
  for (const [link, target] of Object.entries(USR_MERGE)) {
    mkdirSync(join(root, target), { recursive: true });
    symlinkSync(target, join(root, link));
  }
  const node = realpathSync(process.execPath);
  const libraries = [node, ...nativeFiles(join(appDir, 'node_modules'))].flatMap((b) =>
    systemLibraries(b, appDir),
  );
  const packages = [...new Set(libraries.map(packageOf))].sort();
  for (const pkg of packages) for (const file of packageFiles(pkg)) copyHostFile(file, root);
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  cpSync(node, join(root, 'usr/local/bin/node'), { preserveTimestamps: true });
  // Node.js trusts the roots it is built with; the system's bundle (the file update-ca-certificates
  // generates from the ca-certificates package) is what NODE_EXTRA_CA_CERTS and --use-system-ca read.
  copyHostFile(CA_BUNDLE, root);

  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
  writeFileSync(
    join(root, 'etc/passwd'),
    `root:x:0:0:root:/root:/usr/sbin/nologin\n${users.name}:x:${users.uid}:${users.gid}::/tmp:/usr/sbin/nologin\n`,
  );
  writeFileSync(join(root, 'etc/group'), `root:x:0:\n${users.name}:x:${users.gid}:\n`);
  return { packages: [...packages, 'ca-certificates (bundle)'], nodeVersion: `${process.version} (${node})` };
}
