import { getPlatformInfo, type PlatformInfo } from '../../services/platform-info.js';

export const platformInfo = (): PlatformInfo => getPlatformInfo();
