import { createHash, randomBytes } from 'node:crypto';
import { link, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AnnGraph, type AnnSettings } from './ann-graph.js';

/**
 * Snapshots of the in-memory HNSW graphs, next to the SQLite file: `<file>.hnsw-<dim>` (hnswlib's
 * own format) and `<file>.hnsw-<dim>.json`, the header saying what the graph covers. Opening loads
 * the graph in about a second instead of rebuilding it for minutes, then replays the change log
 * from the header's position. A snapshot is only a shortcut: whatever does not match exactly
 * (another database file, a position the log no longer reaches or that the file has not reached,
 * other graph settings, a checksum that differs) is ignored and the graph rebuilt from the rows.
 */

const FORMAT = 1;

export interface SnapshotHeader {
  format: number;
  /** `index_meta.instance_id` of the SQLite file: a recreated or replaced file has another. */
  instance: string;
  /** Change-log position: the graph holds exactly the vectors of the rows as of this sequence. */
  seq: number;
  dim: number;
  m: number;
  efConstruction: number;
  bytes: number;
  sha1: string;
  /** Labels live in the graph (slots of deleted points are in the file too). */
  live: number[];
}

export interface LoadedSnapshot {
  graph: AnnGraph;
  header: SnapshotHeader;
}

export type SnapshotOutcome = { dim: number; used: true; seq: number } | { dim: number; used: false; reason: string };

export function snapshotFiles(dbPath: string, dim: number): { graph: string; header: string } {
  const graph = `${dbPath}.hnsw-${dim}`;
  return { graph, header: `${graph}.json` };
}

async function sha1Of(file: string): Promise<string> {
  const hash = createHash('sha1');
  // One reused buffer: a stream's fresh 1 MB chunks fragment the allocator, and the process keeps that memory.
  const buffer = Buffer.allocUnsafe(1 << 22);
  const handle = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files (170 MB each at 100k chunks) of processes that died while writing or reading a snapshot. */
async function removeLeftovers(dbPath: string): Promise<void> {
  const prefix = `${basename(dbPath)}.hnsw-`;
  const names = await readdir(dirname(dbPath)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /\.(?:tmp|read)-(\d+)-[0-9a-f]+$/.exec(name) : null;
    if (m && !alive(Number(m[1]))) await unlinkQuietly(join(dirname(dbPath), name));
  }
}

/**
 * Writes the graph crash-safely: both files go to temporary names first and are renamed into place,
 * the graph before its header. A crash leaves the old pair or a header that does not match the
 * graph's checksum (ignored); several processes writing at once cannot mix their files undetected.
 */
export async function writeSnapshot(dbPath: string, graph: AnnGraph, tag: Omit<SnapshotHeader, 'format' | 'bytes' | 'sha1' | 'live' | 'dim'>): Promise<void> {
  const final = snapshotFiles(dbPath, graph.dim);
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpGraph = final.graph + suffix;
  const tmpHeader = final.header + suffix;
  // Taken before the write: the caller keeps the graph unchanged until this function resolves.
  const live = graph.labels();
  await removeLeftovers(dbPath);
  try {
    await graph.write(tmpGraph);
    const [{ size }, sha1] = await Promise.all([stat(tmpGraph), sha1Of(tmpGraph)]);
    const header: SnapshotHeader = { format: FORMAT, dim: graph.dim, ...tag, bytes: size, sha1, live };
    await writeFile(tmpHeader, JSON.stringify(header));
    await rename(tmpGraph, final.graph);
    await rename(tmpHeader, final.header);
  } finally {
    await unlinkQuietly(tmpGraph);
    await unlinkQuietly(tmpHeader);
  }
}

/**
 * The snapshot of one dimension's graph if it belongs to this file and these settings and is intact;
 * else why not. Whether its position is still replayable is for the caller to check (it needs the
 * read transaction of the rows).
 */
export async function readSnapshot(dbPath: string, dim: number, instance: string, settings: AnnSettings): Promise<LoadedSnapshot | { reason: string }> {
  const files = snapshotFiles(dbPath, dim);
  let header: SnapshotHeader;
  try {
    header = JSON.parse(await readFile(files.header, 'utf8')) as SnapshotHeader;
  } catch (err) {
    return { reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unreadable header' };
  }
  if (header.format !== FORMAT || header.dim !== dim || !Array.isArray(header.live)) return { reason: 'other format' };
  if (header.instance !== instance) return { reason: 'another database file' };
  if (header.m !== settings.m || header.efConstruction !== settings.efConstruction) return { reason: 'other graph settings' };
  // A hard link pins the file: a snapshot renamed over it meanwhile cannot change what is checked and read.
  const pinned = `${files.graph}.read-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await link(files.graph, pinned);
  } catch {
    return { reason: 'graph file missing' };
  }
  try {
    const { size } = await stat(pinned);
    if (size !== header.bytes) return { reason: 'size differs' };
    if ((await sha1Of(pinned)) !== header.sha1) return { reason: 'checksum differs' };
    const graph = await AnnGraph.read(pinned, dim, settings, header.live);
    return { graph, header };
  } catch (err) {
    return { reason: `unreadable graph (${(err as Error).message})` };
  } finally {
    await unlinkQuietly(pinned);
  }
}
