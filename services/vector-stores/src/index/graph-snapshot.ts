import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AnnGraph, AnnSettings, GraphImage } from './ann-graph.js';

/**
 * Snapshots of the in-memory graphs, next to the SQLite file: `<file>.hnsw-<dim>` (the links, see
 * `encode`) and `<file>.hnsw-<dim>.json`, the header saying what the graph covers. Opening loads
 * the graph in well under a second instead of rebuilding it, then replays the change log from the
 * header's position. A snapshot is only a shortcut: whatever does not match exactly (another
 * database file, a position the log no longer reaches or that the file has not reached, other
 * graph settings or format, a checksum that differs) is ignored and the graph rebuilt from the rows.
 * Format 2 is our own graph (node = row id + links; the vectors come from the rows); format-1 files
 * (hnswlib's) are ignored, and replaced by the next snapshot.
 */

const FORMAT = 2;
const MAGIC = 0x52475747; // "GWGR"

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
}

export interface LoadedSnapshot {
  /** In the saving process's node numbering: `AnnGraph.fromImage` renumbers it. */
  graph: GraphImage;
  header: SnapshotHeader;
}

export type SnapshotOutcome = { dim: number; used: true; seq: number } | { dim: number; used: false; reason: string };

export function snapshotFiles(dbPath: string, dim: number): { graph: string; header: string } {
  const graph = `${dbPath}.hnsw-${dim}`;
  return { graph, header: `${graph}.json` };
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

/** Temporary files (13 MB each at 100k chunks) of processes that died while writing or reading a snapshot. */
async function removeLeftovers(dbPath: string): Promise<void> {
  const prefix = `${basename(dbPath)}.hnsw-`;
  const names = await readdir(dirname(dbPath)).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /\.(?:tmp|read)-(\d+)-[0-9a-f]+$/.exec(name) : null;
    if (m && !alive(Number(m[1]))) await unlinkQuietly(join(dirname(dbPath), name));
  }
}

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/**
 * The file: 4 int32 (magic, M, node count, entry), then per node its label (int32), its layer-0
 * block (2M + 1 int32), its top layer (int8, padded to 4 bytes), then the upper-layer nodes as
 * (node, ints…). Little-endian, as every platform Node runs on.
 */
export function encode(image: GraphImage): Buffer {
  const n = image.levels.length;
  let upperInts = 0;
  for (const links of image.upper.values()) upperInts += 1 + links.length;
  const padded = Math.ceil(n / 4) * 4;
  const ints = new Int32Array(4 + n + image.links0.length + padded / 4 + upperInts);
  ints.set([MAGIC, image.m, n, image.entry]);
  let at = 4;
  ints.set(image.labels, at);
  at += n;
  ints.set(image.links0, at);
  at += image.links0.length;
  new Int8Array(ints.buffer, at * 4, n).set(image.levels);
  at += padded / 4;
  for (const [node, links] of image.upper) {
    ints[at++] = node;
    ints.set(links, at);
    at += links.length;
  }
  return Buffer.from(ints.buffer);
}

export function decode(bytes: Buffer): GraphImage {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const ints = new Int32Array(copy.buffer, 0, copy.length >> 2);
  const [magic, m, n, entry] = ints;
  if (magic !== MAGIC || !m || n === undefined || n < 0) throw new Error('not a graph file');
  const m0 = 2 * m;
  let at = 4;
  const labels = ints.subarray(at, (at += n));
  const links0 = ints.subarray(at, (at += n * (m0 + 1)));
  const levels = new Int8Array(copy.buffer, at * 4, n);
  at += Math.ceil(n / 4);
  const upper = new Map<number, Int32Array>();
  while (at < ints.length) {
    const node = ints[at++]!;
    const level = levels[node]!;
    if (!(level > 0)) throw new Error('bad upper-layer entry');
    upper.set(node, ints.subarray(at, (at += level * (m + 1))));
  }
  if (at !== ints.length) throw new Error('truncated graph file');
  return { m, labels, levels, links0, upper, entry: entry! };
}

/**
 * Writes the graph crash-safely: both files go to temporary names first and are renamed into place,
 * the graph before its header. A crash leaves the old pair or a header that does not match the
 * graph's checksum (ignored); several processes writing at once cannot mix their files undetected.
 * The graph is copied synchronously (~13 MB at 100k nodes), so it may change during the write.
 */
export async function writeSnapshot(dbPath: string, graph: AnnGraph, tag: Omit<SnapshotHeader, 'format' | 'bytes' | 'sha1' | 'dim'>): Promise<void> {
  const final = snapshotFiles(dbPath, graph.dim);
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmpGraph = final.graph + suffix;
  const tmpHeader = final.header + suffix;
  const bytes = encode(graph.toImage());
  await removeLeftovers(dbPath);
  try {
    await writeFile(tmpGraph, bytes);
    const header: SnapshotHeader = { format: FORMAT, dim: graph.dim, ...tag, bytes: bytes.length, sha1: sha1(bytes) };
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
  if (header.format !== FORMAT || header.dim !== dim) return { reason: 'other format' };
  if (header.instance !== instance) return { reason: 'another database file' };
  if (header.m !== settings.m || header.efConstruction !== settings.efConstruction) return { reason: 'other graph settings' };
  // One read of the whole file: a snapshot renamed over it meanwhile cannot mix into what is checked.
  let bytes: Buffer;
  try {
    bytes = await readFile(files.graph);
  } catch {
    return { reason: 'graph file missing' };
  }
  if (bytes.length !== header.bytes) return { reason: 'size differs' };
  if (sha1(bytes) !== header.sha1) return { reason: 'checksum differs' };
  try {
    const graph = decode(bytes);
    if (graph.m !== settings.m) return { reason: 'other graph settings' };
    return { graph, header };
  } catch (err) {
    return { reason: `unreadable graph (${(err as Error).message})` };
  }
}
