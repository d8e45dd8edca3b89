import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keysConfigured, loadConfig, parseSize } from './config.js';

describe('loadConfig', () => {
  it('has the documented defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8321, host: '127.0.0.1', bodyLimitBytes: 50 * 1024 * 1024, providers: [], serviceUrls: {}, modelCacheTtlMs: 60_000 });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('turns BACKEND_* into a provider ahead of the file providers, with ${VAR} expansion in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'providers:\n  - id: vllm\n    baseUrl: http://vllm:8000/v1\n    apiKey: ${VLLM_KEY}\n    models: [llama]\nservices:\n  prompts: http://prompts:8324\n');
    const c = loadConfig({ CONFIG_FILE: file, VLLM_KEY: 'secret', BACKEND_BASE_URL: 'http://localhost:11434/v1', BACKEND_API_KEY: 'k', RESPONSES_SERVICE_URL: 'http://r:1' });
    expect(c.providers.map((p) => p.id)).toEqual(['default', 'vllm']);
    expect(c.providers[0]).toMatchObject({ baseUrl: 'http://localhost:11434/v1', apiKey: 'k', listModels: true });
    expect(c.providers[1]).toMatchObject({ apiKey: 'secret', models: ['llama'] });
    expect(c.serviceUrls).toEqual({ prompts: 'http://prompts:8324', responses: 'http://r:1' });
  });

  it('reads API keys, projects of the file, limits, and picks the listening address by whether keys are required', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'auth:\n  projects:\n    - id: team-a\n      rpm: 60\n      keys:\n        - key: ${TEAM_KEY}\n          models: [m1]\n');
    const c = loadConfig({ CONFIG_FILE: file, TEAM_KEY: 'team-a-secret', API_KEYS: 'k1-secret, k2-secret', RATE_LIMIT_RPM: '10' });
    expect(c.apiKeys).toEqual(['k1-secret', 'k2-secret']);
    expect(c.authProjects).toEqual([{ id: 'team-a', rpm: 60, keys: [{ key: 'team-a-secret', models: ['m1'] }] }]);
    expect(c.defaultKeyLimits).toEqual({ rpm: 10, tpm: undefined });
    expect(keysConfigured(c)).toBe(true);
    expect(c).toMatchObject({ host: '0.0.0.0', hostExplicit: false });
    expect(loadConfig({ ADMIN_API_KEY: 'admin' }).host).toBe('0.0.0.0');
    expect(loadConfig({ INTERNAL_TOKEN: 't' }).host).toBe('0.0.0.0'); // a service behind the gateway
    expect(loadConfig({ HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', hostExplicit: true });
    expect(keysConfigured(loadConfig({}))).toBe(false);
    expect(() => loadConfig({ RATE_LIMIT_TPM: '-3' })).toThrow(/RATE_LIMIT_TPM/);
  });

  it('rejects a config file with an unknown key, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'providers:\n  - id: a\n    baseUrl: http://a/v1\n    colour: red\n');
    expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/providers\.0/);
  });

  it('rejects two providers with one id and a non-numeric PORT', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'providers:\n  - id: default\n    baseUrl: http://a/v1\n');
    expect(() => loadConfig({ CONFIG_FILE: file, BACKEND_BASE_URL: 'http://b/v1' })).toThrow(/configured twice/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });

  it('reads GATEWAY_URL and WORKERS from the environment or the file, with no guessed gateway URL', () => {
    expect(loadConfig({})).toMatchObject({ gatewayUrl: undefined, workers: 'in-process' });
    expect(loadConfig({ GATEWAY_URL: 'http://gw:8321', WORKERS: 'external' })).toMatchObject({ gatewayUrl: 'http://gw:8321', workers: 'external' });
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'gatewayUrl: http://gateway:8321\nworkers: external\n');
    expect(loadConfig({ CONFIG_FILE: file })).toMatchObject({ gatewayUrl: 'http://gateway:8321', workers: 'external' });
    expect(() => loadConfig({ WORKERS: 'sometimes' })).toThrow(/WORKERS/);
    expect(() => loadConfig({ GATEWAY_URL: 'gateway' })).toThrow(/GATEWAY_URL/);
  });

  it('parses sizes', () => {
    expect(parseSize('50mb')).toBe(52428800);
    expect(parseSize('512KB')).toBe(524288);
    expect(parseSize('100')).toBe(100);
    expect(() => parseSize('lots')).toThrow();
  });
});
