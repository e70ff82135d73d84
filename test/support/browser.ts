import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium package; `.ci/run` installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Quiet and hermetic: no GPU, no QUIC, no first-run, update, sync or other background traffic. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A real headless Chromium with a fresh profile (Playwright passes it as --user-data-dir) and the
 * given HTTP credentials. Requests leaving 127.0.0.1 (web fonts) are aborted so the test does not
 * depend on the internet.
 */
export async function launchBrowser(httpCredentials?: {
  username: string;
  password: string;
}): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'rag-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    httpCredentials,
    viewport: { width: 1280, height: 800 },
  });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
