/**
 * Process-tree and listening-socket inspection through Linux's /proc, for tests that check that a
 * supervisor leaves no process and no port behind.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: parse after its last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** Every live descendant of `pid` (children, grandchildren, …), zombies excluded. */
export function descendantsOf(pid: number): number[] {
  const procs = allProcesses().filter((p) => p.state !== 'Z');
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = procs.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    found.push(...children);
    frontier = children;
  }
  return found;
}

/** Live (not zombie) processes whose process group is `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  return allProcesses()
    .filter((p) => p.pgrp === pgid && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Whether `pid` is a live process (a zombie counts as gone: it runs nothing and holds no socket). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

interface ListeningSocket {
  port: number;
  inode: string;
}

function listeningSockets(): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      sockets.push({ port: parseInt(cols[1]!.split(':').pop()!, 16), inode: cols[9]! });
    }
  }
  return sockets;
}

/** TCP ports on which one of `pids` listens. */
export function listeningPortsOf(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return [
    ...new Set(
      listeningSockets()
        .filter((s) => inodes.has(s.inode))
        .map((s) => s.port),
    ),
  ].sort((a, b) => a - b);
}

/** Ports of `ports` on which anything on this host still listens (any address, IPv4 or IPv6). */
export function portsStillListening(ports: number[]): number[] {
  const listening = new Set(listeningSockets().map((s) => s.port));
  return ports.filter((p) => listening.has(p));
}
