const scratch = Buffer.alloc(32);

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on every run and machine,
 * which is what makes `generate` and the fault injection repeatable. Not for anything secret.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[Math.floor(this.next() * list.length)] as T;
  }

  /** `chars` lower-case hex characters (even). One flat string: large catalogues keep millions of IDs. */
  hex(chars: number): string {
    const bytes = chars >> 1;
    if (bytes > scratch.length) throw new Error(`hex: at most ${scratch.length * 2} characters`);
    for (let i = 0; i < bytes; i++) scratch[i] = (this.next() * 256) | 0;
    return scratch.toString('hex', 0, bytes);
  }

  /**
   * A MongoDB-ObjectId-like 24-hex ID: 4 bytes of `time`, 5 random bytes, 3 bytes of `counter` (which
   * makes IDs unique as long as counters are).
   */
  objectId(time: number, counter: number): string {
    scratch.writeUInt32BE(time >>> 0, 0);
    for (let i = 4; i < 9; i++) scratch[i] = (this.next() * 256) | 0;
    scratch.writeUIntBE(counter % 0x1000000, 9, 3);
    return scratch.toString('hex', 0, 12);
  }
}

/** Mixes a seed with a label (e.g. a system's name) so that each label gets its own stream. */
export function seedFor(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
