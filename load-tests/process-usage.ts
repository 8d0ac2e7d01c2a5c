import { readdir, readFile, readlink } from 'node:fs/promises';

/** A process's resident memory, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Socket inode → [local port, remote port] of every TCP connection in the process's network namespace. */
async function tcpSockets(pid: number): Promise<Map<string, [number, number]>> {
  const sockets = new Map<string, [number, number]>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8');
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, , , , , , , inode] = line.trim().split(/\s+/);
      if (!local || !remote || !inode) continue;
      const port = (address: string) => parseInt(address.split(':')[1]!, 16);
      sockets.set(inode, [port(local), port(remote)]);
    }
  }
  return sockets;
}

/**
 * How many file descriptors a process holds open, and the local ports of those that are TCP
 * connections to `remotePort` (for matching against a server's view, such as pg_stat_activity).
 */
export async function openFileDescriptors(
  pid: number,
  remotePort: number,
): Promise<{ count: number; localPorts: Set<number> }> {
  const fds = await readdir(`/proc/${pid}/fd`);
  // A descriptor closed since readdir is simply not a socket any more.
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  const sockets = await tcpSockets(pid);
  const localPorts = new Set<number>();
  for (const target of targets) {
    const peer = sockets.get(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '');
    if (peer?.[1] === remotePort) localPorts.add(peer[0]);
  }
  return { count: fds.length, localPorts };
}
