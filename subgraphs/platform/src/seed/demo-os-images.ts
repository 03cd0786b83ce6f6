import type pg from 'pg';
import { uuidv7 } from '@gpuaas/db';

const images = [
  { name: 'ubuntu-22.04-cuda', version: '12.4', family: 'ubuntu', imageRef: 'gpuaas/ubuntu:22.04-cuda12.4', cuda: '12.4', driver: '550.90.07', isDefault: true },
  { name: 'ubuntu-24.04-cuda', version: '12.6', family: 'ubuntu', imageRef: 'gpuaas/ubuntu:24.04-cuda12.6', cuda: '12.6', driver: '560.35.03', isDefault: false },
  { name: 'pytorch', version: '2.5-cuda12.4', family: 'ubuntu', imageRef: 'gpuaas/pytorch:2.5-cuda12.4', cuda: '12.4', driver: '550.90.07', isDefault: false },
];

/** OS images offered by the demo platform; idempotent by (name, version). */
export async function seedDemoOsImages(client: pg.ClientBase): Promise<void> {
  for (const image of images) {
    await client.query(
      `INSERT INTO platform.os_images (id, name, version, family, image_ref, cuda_version, driver_version, is_default)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8 AND NOT EXISTS (SELECT 1 FROM platform.os_images WHERE is_default)
       ON CONFLICT (name, version) DO NOTHING`,
      [uuidv7(), image.name, image.version, image.family, image.imageRef, image.cuda, image.driver, image.isDefault],
    );
  }
}
