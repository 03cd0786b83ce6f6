import { describe, expect, it } from 'vitest';
import { createSimulatedDriver, DriverError } from '../src/index.js';

const request = (driver: ReturnType<typeof createSimulatedDriver>, allocationId: string, gpu = 0, slice: number | null = 0) => ({
  allocationId,
  gpuUuid: driver.gpus[gpu]!.uuid,
  migUuid: slice === null ? null : driver.gpus[gpu]!.instances[slice]!.migUuid,
  sliceProfile: slice === null ? 'whole' : driver.gpus[gpu]!.instances[slice]!.profile,
  osImage: 'ubuntu-22.04',
  sshPublicKeys: [],
});

describe('simulated driver', () => {
  it('lays out 2× H100 with seven 1g.10gb slices and one whole H100 by default, stable per host', async () => {
    const driver = createSimulatedDriver({ hostSeed: 'sim-a', seed: 1 });
    const gpus = await driver.discover();
    expect(gpus.map((gpu) => [gpu.index, gpu.name, gpu.migMode, gpu.instances.length])).toEqual([
      [0, 'NVIDIA H100 80GB HBM3', 'enabled', 7],
      [1, 'NVIDIA H100 80GB HBM3', 'enabled', 7],
      [2, 'NVIDIA H100 80GB HBM3', 'disabled', 0],
    ]);
    expect(gpus[0]!.instances.map((instance) => [instance.placement.start, instance.placement.size, instance.gpuInstanceId])).toEqual([
      [0, 1, 1], [1, 1, 2], [2, 1, 3], [3, 1, 4], [4, 1, 5], [5, 1, 6], [6, 1, 7],
    ]);
    expect(gpus[0]!.uuid).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await createSimulatedDriver({ hostSeed: 'sim-a' }).discover()).toEqual(gpus);
    expect((await createSimulatedDriver({ hostSeed: 'sim-b' }).discover())[0]!.uuid).not.toBe(gpus[0]!.uuid);
  });

  it('places a mixed layout first-fit and refuses one that does not fit', async () => {
    const driver = createSimulatedDriver({ hostSeed: 'h', layout: { gpus: [{ mig: ['3g.40gb', '2g.20gb', '1g.10gb'] }] } });
    expect(driver.gpus[0]!.instances.map((instance) => instance.placement)).toEqual([{ start: 0, size: 4 }, { start: 4, size: 2 }, { start: 6, size: 1 }]);
    expect(() => createSimulatedDriver({ hostSeed: 'h', layout: { gpus: [{ mig: ['4g.40gb', '4g.40gb'] }] } })).toThrow(/no free placement/);
  });

  it('is idempotent by allocation id and refuses a device another allocation holds', async () => {
    const driver = createSimulatedDriver({ hostSeed: 'h', seed: 1 });
    const first = await driver.provision(request(driver, 'alloc-1'));
    expect(await driver.provision(request(driver, 'alloc-1'))).toEqual(first);
    await expect(driver.provision(request(driver, 'alloc-2'))).rejects.toMatchObject({ code: 'device_busy' });
    await expect(driver.provision(request(driver, 'alloc-1', 0, 1))).rejects.toMatchObject({ code: 'conflict' });
    expect(await driver.running()).toEqual([{ allocationId: 'alloc-1', gpuUuid: driver.gpus[0]!.uuid, migUuid: driver.gpus[0]!.instances[0]!.migUuid }]);
    await driver.release({ allocationId: 'alloc-1' });
    await driver.release({ allocationId: 'alloc-1' });
    expect(await driver.running()).toEqual([]);
    await expect(driver.provision(request(driver, 'alloc-2'))).resolves.toMatchObject({ sshUser: 'ubuntu' });
  });

  it('fails the share of provisions its failure rate names, reproducibly with a seeded RNG', async () => {
    const outcomes = async (seed: number) => {
      const driver = createSimulatedDriver({ hostSeed: 'h', seed, failureRate: 0.5, layout: { gpus: [{ count: 16 }] } });
      const results: boolean[] = [];
      for (let gpu = 0; gpu < 16; gpu++) {
        results.push(await driver.provision(request(driver, `a-${gpu}`, gpu, null)).then(() => true, (error: DriverError) => (expect(error.code).toBe('provision_failed'), false)));
      }
      return results;
    };
    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    const failures = first.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(13);
  });

  it('waits its provisioning delay and gives plausible telemetry for running guests only', async () => {
    const driver = createSimulatedDriver({ hostSeed: 'h', seed: 7, provisionDelayMs: 150 });
    expect(await driver.sample()).toEqual([]);
    const started = Date.now();
    await driver.provision(request(driver, 'alloc-1', 2, null));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const [sample] = await driver.sample();
    expect(sample).toMatchObject({ gpuUuid: driver.gpus[2]!.uuid, migUuid: null, memoryTotalBytes: 80 * 1024 ** 3 });
    expect(sample!.gpuUtilizationPercent).toBeGreaterThanOrEqual(0);
    expect(sample!.gpuUtilizationPercent).toBeLessThanOrEqual(100);
    expect(sample!.memoryUsedBytes).toBeLessThanOrEqual(sample!.memoryTotalBytes);
  });
});
