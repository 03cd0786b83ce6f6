import { ConfigError } from '@gpuaas/config';

/** For main.ts files: runs a config loader and, on a ConfigError, prints every problem and exits with EX_CONFIG. */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
