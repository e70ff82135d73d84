import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { run } from './docker-cli.js';

/**
 * The open-files limit compose asks for (`ulimits: nofile: 65536` on the gateway and nginx) is more
 * than some Docker engines can grant: a container's hard limit cannot exceed the engine's own, and
 * runc then refuses to start it ("error setting rlimit type 7: operation not permitted"). On hosts
 * whose dockerd runs under systemd (`LimitNOFILE=infinity`) this never arises; on our machines the
 * engine inherits a hard limit of 20,000 that not even root may raise (no CAP_SYS_RESOURCE).
 *
 * So the test, not the user's compose file, adapts: it asks the engine what hard limit a container
 * gets, and only when that is lower than what a service asks for, writes a compose override file
 * with the engine's limit for those services. The user's compose.yaml stays untouched.
 */

interface Ulimit {
  soft: number;
  hard: number;
}

interface ComposeFile {
  services: Record<string, { ulimits?: { nofile?: number | Ulimit } }>;
}

export interface LimitsOverride {
  /** The engine's hard limit on open files, as a container sees it. */
  engineHard: number;
  /** Services whose `nofile` was lowered, with what compose asked for. */
  lowered: { service: string; asked: Ulimit }[];
  /** The override file to pass after compose.yaml, when anything was lowered. */
  file?: string;
}

/** The hard open-files limit of a container started by this engine without `--ulimit`. */
export async function engineNofileHard(image: string): Promise<number> {
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    'ulimit -Hn',
  ]);
  const value = stdout.trim();
  return value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value);
}

/** Compares compose.yaml's `nofile` limits with the engine's, and writes an override if needed. */
export async function limitsOverride(composeFile: string, probeImage: string): Promise<LimitsOverride> {
  const engineHard = await engineNofileHard(probeImage);
  if (Number.isNaN(engineHard)) throw new Error(`could not read the engine's open-files limit`);
  const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as ComposeFile;
  const lowered: LimitsOverride['lowered'] = [];
  const override: ComposeFile = { services: {} };
  for (const [service, definition] of Object.entries(compose.services)) {
    const nofile = definition.ulimits?.nofile;
    if (nofile === undefined) continue;
    const asked = typeof nofile === 'number' ? { soft: nofile, hard: nofile } : nofile;
    if (asked.hard <= engineHard) continue;
    lowered.push({ service, asked });
    override.services[service] = {
      ulimits: { nofile: { soft: Math.min(asked.soft, engineHard), hard: engineHard } },
    };
  }
  if (lowered.length === 0) return { engineHard, lowered };
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rag-deploy-test-')), 'limits.override.yaml');
  writeFileSync(
    file,
    `# Written by test/deploy (host-limits.ts): this Docker engine cannot grant more than ${engineHard}\n` +
      `# open files, less than docker/compose.yaml asks for.\n${stringify(override)}`,
  );
  return { engineHard, lowered, file };
}
