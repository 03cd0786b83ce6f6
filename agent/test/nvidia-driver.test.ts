import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topologyGpu } from '../src/builtin-handlers.js';
import { createNvidiaDriver, DriverError, parseGpuInstances, parseGpuList, parseSmiLog, type CommandRunner } from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const MIB = 1024 * 1024;

// `nvidia-smi mig -lgi` as printed on an A100-SXM4-40GB with two 3g.20gb instances (quoted from a public MIG write-up).
const lgiTwo3g20gb = `+----------------------------------------------------+
| GPU instances:                                     |
| GPU   Name          Profile  Instance   Placement  |
|                       ID       ID       Start:Size |
|====================================================|
|   0  MIG 3g.20gb       9        1          4:4     |
+----------------------------------------------------+
|   0  MIG 3g.20gb       9        2          0:4     |
+----------------------------------------------------+
`;

// `nvidia-smi -L` in NVIDIA's documented layout for this host's GPU; the MIG UUIDs are placeholders of the real shape.
const listA100 = `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-27b94a00-ed54-5c24-b1fd-1054085de32a)
  MIG 3g.20gb     Device  0: (UUID: MIG-11111111-2222-5333-8444-555555555555)
  MIG 3g.20gb     Device  1: (UUID: MIG-66666666-7777-5888-9999-aaaaaaaaaaaa)
`;

function runner(outputs: Record<string, string>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = (async (command: string, args: readonly string[]) => {
    const line = [command, ...args].join(' ');
    calls.push(line);
    const output = outputs[line];
    if (output === undefined) throw new DriverError('driver_error', `unexpected command ${line}`);
    return output;
  }) as CommandRunner & { calls: string[] };
  run.calls = calls;
  return run;
}

describe('nvidia-smi -q -x parsing (real captures)', () => {
  it('reads a whole-card host: one Tesla P100 with MIG not available', () => {
    const log = parseSmiLog(fixture('tesla-p100.xml'));
    expect(log.driverVersion).toBe('510.47.03');
    expect(log.gpus).toEqual([
      {
        index: 0,
        pciBusId: '00000000:00:04.0',
        uuid: 'GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e',
        name: 'Tesla P100-PCIE-16GB',
        migMode: 'disabled',
        memoryTotalBytes: 16384 * MIB,
        memoryUsedBytes: 0,
        gpuUtilizationPercent: 0,
        temperatureCelsius: 38,
        powerWatts: 26.16,
        migDevices: [],
      },
    ]);
  });

  it('reads an A100 in MIG mode with its two MIG devices', () => {
    const [gpu] = parseSmiLog(fixture('a100-sxm4-mig.xml')).gpus;
    expect(gpu).toMatchObject({
      uuid: 'GPU-27b94a00-ed54-5c24-b1fd-1054085de32a',
      name: 'NVIDIA A100-SXM4-40GB',
      migMode: 'enabled',
      memoryTotalBytes: 40960 * MIB,
      gpuUtilizationPercent: null,
      temperatureCelsius: 36,
      powerWatts: 66.92,
    });
    expect(gpu!.migDevices).toEqual([
      { index: 0, gpuInstanceId: 1, computeInstanceId: 0, multiprocessorCount: 42, memoryTotalBytes: 19968 * MIB, memoryUsedBytes: 19 * MIB },
      { index: 1, gpuInstanceId: 2, computeInstanceId: 0, multiprocessorCount: 42, memoryTotalBytes: 19968 * MIB, memoryUsedBytes: 19 * MIB },
    ]);
  });

  it('refuses output that is not an nvidia_smi_log', () => {
    expect(() => parseSmiLog('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.')).toThrow(DriverError);
  });
});

// Our own capture from a lent H100 host (driver 580.159.04, XML DTD v13, MIG disabled); see fixtures/README.md.
const H100_UUID = 'GPU-98cc931b-02bd-c02b-236f-e7e048a6b768';
const h100Outputs = () => ({
  'nvidia-smi -q -x': fixture('h100-80gb-hbm3.xml'),
  'nvidia-smi -L': fixture('h100-80gb-hbm3.L.txt'),
  'nvidia-smi mig -lgi': fixture('h100-80gb-hbm3.mig-lgi.txt'),
});

describe('H100 80GB HBM3 on driver 580 (our capture)', () => {
  it('reads the v13 XML: identity, memory, utilization, temperature and the 1 s average power draw', () => {
    const log = parseSmiLog(fixture('h100-80gb-hbm3.xml'));
    expect(log.driverVersion).toBe('580.159.04');
    expect(log.gpus).toEqual([
      {
        index: 0,
        pciBusId: '00000000:00:06.0',
        uuid: H100_UUID,
        name: 'NVIDIA H100 80GB HBM3',
        migMode: 'disabled',
        memoryTotalBytes: 81559 * MIB,
        memoryUsedBytes: 0,
        gpuUtilizationPercent: 0,
        temperatureCelsius: 32,
        powerWatts: 72.19,
        migDevices: [],
      },
    ]);
  });

  it('falls back to the instant power draw where the average is N/A', () => {
    // Derived from the capture: only gpu_power_readings' average (its first <average_power_draw>) is blanked.
    const xml = fixture('h100-80gb-hbm3.xml').replace('<average_power_draw>72.19 W</average_power_draw>', '<average_power_draw>N/A</average_power_draw>');
    expect(parseSmiLog(xml).gpus[0]!.powerWatts).toBe(72.29);
  });

  it('discovers exactly one whole card with no MIG instances, asking nvidia-smi for nothing but the XML', async () => {
    const run = runner(h100Outputs());
    const gpus = await createNvidiaDriver({ run }).discover();
    expect(gpus).toEqual([{ uuid: H100_UUID, index: 0, name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * MIB, migMode: 'disabled', instances: [] }]);
    expect(run.calls).toEqual(['nvidia-smi -q -x']);
    expect(gpus.map(topologyGpu)).toEqual([{ uuid: H100_UUID, index: 0, name: 'NVIDIA H100 80GB HBM3', memory_bytes: 81559 * MIB, mig_mode: 'disabled', instances: [] }]);
  });

  it('samples the whole card with the values in the capture', async () => {
    const samples = await createNvidiaDriver({ run: runner(h100Outputs()) }).sample();
    expect(samples.map(({ sampledAt: _sampledAt, ...rest }) => rest)).toEqual([
      { gpuUuid: H100_UUID, migUuid: null, gpuUtilizationPercent: 0, memoryUsedBytes: 0, memoryTotalBytes: 81559 * MIB, temperatureCelsius: 32, powerWatts: 72.19 },
    ]);
  });

  it('reads the -L listing as one GPU with no MIG devices', () => {
    expect([...parseGpuList(fixture('h100-80gb-hbm3.L.txt'))]).toEqual([[H100_UUID, []]]);
  });

  it('reads "No MIG-enabled devices found." from mig -lgi as no GPU instances', () => {
    expect(fixture('h100-80gb-hbm3.mig-lgi.txt')).toBe('No MIG-enabled devices found.\n');
    expect(parseGpuInstances(fixture('h100-80gb-hbm3.mig-lgi.txt'))).toEqual([]);
  });
});

describe('nvidia-smi listings', () => {
  it('reads GPU instances with profile and placement from mig -lgi', () => {
    expect(parseGpuInstances(lgiTwo3g20gb)).toEqual([
      { gpuIndex: 0, profile: '3g.20gb', profileId: 9, gpuInstanceId: 1, placement: { start: 4, size: 4 } },
      { gpuIndex: 0, profile: '3g.20gb', profileId: 9, gpuInstanceId: 2, placement: { start: 0, size: 4 } },
    ]);
  });

  it('reads MIG UUIDs per GPU from -L', () => {
    expect(parseGpuList(listA100).get('GPU-27b94a00-ed54-5c24-b1fd-1054085de32a')).toEqual([
      { profile: '3g.20gb', deviceIndex: 0, migUuid: 'MIG-11111111-2222-5333-8444-555555555555' },
      { profile: '3g.20gb', deviceIndex: 1, migUuid: 'MIG-66666666-7777-5888-9999-aaaaaaaaaaaa' },
    ]);
  });
});

describe('nvidia driver', () => {
  it('discovers a MIG card with profiles, placements, instance ids and MIG UUIDs', async () => {
    const run = runner({ 'nvidia-smi -q -x': fixture('a100-sxm4-mig.xml'), 'nvidia-smi -L': listA100, 'nvidia-smi mig -lgi': lgiTwo3g20gb });
    expect(await createNvidiaDriver({ run }).discover()).toEqual([
      {
        uuid: 'GPU-27b94a00-ed54-5c24-b1fd-1054085de32a',
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        memoryBytes: 40960 * MIB,
        migMode: 'enabled',
        instances: [
          { profile: '3g.20gb', placement: { start: 4, size: 4 }, gpuInstanceId: 1, computeInstanceId: 0, migUuid: 'MIG-11111111-2222-5333-8444-555555555555' },
          { profile: '3g.20gb', placement: { start: 0, size: 4 }, gpuInstanceId: 2, computeInstanceId: 0, migUuid: 'MIG-66666666-7777-5888-9999-aaaaaaaaaaaa' },
        ],
      },
    ]);
  });

  it('discovers a whole card without asking for MIG listings', async () => {
    const run = runner({ 'nvidia-smi -q -x': fixture('tesla-p100.xml') });
    const gpus = await createNvidiaDriver({ run }).discover();
    expect(gpus).toEqual([{ uuid: 'GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e', index: 0, name: 'Tesla P100-PCIE-16GB', memoryBytes: 16384 * MIB, migMode: 'disabled', instances: [] }]);
    expect(run.calls).toEqual(['nvidia-smi -q -x']);
  });

  it('fails discovery clearly when a MIG device is missing from the listings', async () => {
    const run = runner({ 'nvidia-smi -q -x': fixture('a100-sxm4-mig.xml'), 'nvidia-smi -L': listA100, 'nvidia-smi mig -lgi': lgiTwo3g20gb.split('\n').slice(0, 7).join('\n') });
    await expect(createNvidiaDriver({ run }).discover()).rejects.toThrow(/MIG device 1 \(GI 2\).*missing/);
  });

  it('samples each MIG device with its own memory and its card temperature and power', async () => {
    const run = runner({ 'nvidia-smi -q -x': fixture('a100-sxm4-mig.xml'), 'nvidia-smi -L': listA100 });
    const samples = await createNvidiaDriver({ run }).sample();
    expect(samples.map(({ sampledAt: _sampledAt, ...rest }) => rest)).toEqual([
      { gpuUuid: 'GPU-27b94a00-ed54-5c24-b1fd-1054085de32a', migUuid: 'MIG-11111111-2222-5333-8444-555555555555', gpuUtilizationPercent: 0, memoryUsedBytes: 19 * MIB, memoryTotalBytes: 19968 * MIB, temperatureCelsius: 36, powerWatts: 66.92 },
      { gpuUuid: 'GPU-27b94a00-ed54-5c24-b1fd-1054085de32a', migUuid: 'MIG-66666666-7777-5888-9999-aaaaaaaaaaaa', gpuUtilizationPercent: 0, memoryUsedBytes: 19 * MIB, memoryTotalBytes: 19968 * MIB, temperatureCelsius: 36, powerWatts: 66.92 },
    ]);
  });

  it('answers not_supported for provisioning', async () => {
    const driver = createNvidiaDriver({ run: runner({}) });
    await expect(driver.provision({ allocationId: 'a', gpuUuid: 'GPU-1', migUuid: null, sliceProfile: 'whole', osImage: 'x', sshPublicKeys: [] })).rejects.toMatchObject({ code: 'not_supported' });
  });
});
