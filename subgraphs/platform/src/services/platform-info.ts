import { readFileSync } from 'node:fs';

export interface PlatformInfo {
  readonly name: string;
  readonly version: string;
}

// Read once at start-up: the deployed version is the platform package's version.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function getPlatformInfo(): PlatformInfo {
  return { name: 'GPUaaS', version };
}
