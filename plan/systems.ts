import { z } from 'zod';

/** The three systems an item can have a part in, in the mission's order. */
export const SystemName = z.enum(['twelvelabs', 'uplynk', 'entermedia']);
export type SystemName = z.infer<typeof SystemName>;
export const SYSTEMS: readonly SystemName[] = SystemName.options;
