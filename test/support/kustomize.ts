import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = path.resolve(import.meta.dirname, '../../../deploy/k8s');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every overlay under deploy/k8s/overlays, by name. */
export function overlayNames(): string[] {
  return readdirSync(path.join(K8S_DIR, 'overlays'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** What `kubectl kustomize` renders for one overlay: the objects an `apply -k` would send. */
export function renderOverlay(name: string): K8sObject[] {
  const rendered = execFileSync('kubectl', ['kustomize', path.join(K8S_DIR, 'overlays', name)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(rendered).map((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
    return document.toJS() as K8sObject;
  });
}

/** KEY=value lines, as kustomize's `envs:` and `kubectl create secret --from-env-file` read them. */
export function readEnvFile(relativePath: string): Record<string, string> {
  const entries = readFileSync(path.join(K8S_DIR, relativePath), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const equals = line.indexOf('=');
      return [line.slice(0, equals), line.slice(equals + 1)] as const;
    });
  return Object.fromEntries(entries);
}
