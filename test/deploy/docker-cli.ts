import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Runs the Docker and compose command-line tools for the deployment test. */

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
          reject(
            new Error(`${command} ${args.join(' ')} failed (${error.message.split('\n')[0]}):\n${output}`),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

async function succeeds(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/** How to call `docker build` with BuildKit, which commits no container per instruction (vfs copies each one in full). */
export interface BuildCli {
  command: string;
  env: NodeJS.ProcessEnv;
  description: string;
}

/**
 * `docker` when it has the buildx plugin; else Debian's docker.io client (/usr/bin/docker, 20.10), whose
 * BuildKit is built in — another `docker` earlier on PATH may lack both; else the legacy builder.
 */
export async function buildCli(): Promise<BuildCli> {
  if (await succeeds('docker', ['buildx', 'version'])) {
    return { command: 'docker', env: { DOCKER_BUILDKIT: '1' }, description: 'docker buildx (BuildKit)' };
  }
  const debianClient = '/usr/bin/docker';
  if (existsSync(debianClient)) {
    return {
      command: debianClient,
      env: { DOCKER_BUILDKIT: '1' },
      description: `${debianClient} (BuildKit)`,
    };
  }
  return { command: 'docker', env: { DOCKER_BUILDKIT: '0' }, description: 'docker (legacy builder)' };
}

/** `docker compose` (v2) when present, else `docker-compose` (1.29 on Debian bookworm). */
export async function composeCli(): Promise<string[]> {
  if (await succeeds('docker', ['compose', 'version'])) return ['docker', 'compose'];
  return ['docker-compose'];
}

/**
 * One compose project: every call names the same project and files (compose.yaml, then any override
 * the test adds), with the same environment.
 */
export class ComposeProject {
  private readonly files: string[];

  constructor(
    private readonly cli: readonly string[],
    readonly project: string,
    file: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.files = [file];
  }

  get description(): string {
    return this.cli.join(' ');
  }

  /** Adds a file that overrides the ones before it (compose merges them in order). */
  addOverride(file: string): void {
    this.files.push(file);
  }

  /** The command line a person would type for `args`, with the project and files. */
  commandLine(...args: string[]): string {
    return [...this.cli, '-p', this.project, ...this.fileArgs(), ...args].join(' ');
  }

  run(...args: string[]): Promise<CommandResult> {
    const [command, ...prefix] = this.cli;
    return run(command, [...prefix, '-p', this.project, ...this.fileArgs(), ...args], this.env);
  }

  private fileArgs(): string[] {
    return this.files.flatMap((file) => ['-f', file]);
  }

  /** The ids of a service's running containers, in a stable order. */
  async containers(service: string): Promise<string[]> {
    const { stdout } = await run('docker', [
      'ps',
      '--filter',
      `label=com.docker.compose.project=${this.project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
      '--format',
      '{{.Names}}',
    ]);
    return stdout.split('\n').filter(Boolean).sort();
  }
}

/** A container's whole log (stdout and stderr), also after it was killed. */
export async function containerLogs(container: string): Promise<string> {
  const { stdout, stderr } = await run('docker', ['logs', container]);
  return `${stdout}\n${stderr}`;
}

/** Log lines that are JSON objects (pino); other lines are skipped. */
export function jsonLines(log: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut off by the kill
    }
  }
  return records;
}
