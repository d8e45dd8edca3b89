/**
 * A compact in-memory copy of one dimension's unit vectors, 8 bits per component with one scale
 * per vector (a quarter of Float32), for the exact search of small candidate sets: reading the
 * vectors back from SQLite row by row costs far more than scanning them here. The approximate
 * scores only preselect; the final candidates are rescored from the stored Float32 vectors.
 */
export class QuantizedVectors {
  private data: Int8Array;
  private scales: Float32Array;
  private readonly slotOf = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private used = 0;

  constructor(
    readonly dim: number,
    initialCapacity = 1024,
  ) {
    this.data = new Int8Array(initialCapacity * dim);
    this.scales = new Float32Array(initialCapacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Stores (or replaces) a vector; returns its slot, the handle `scoreSlot` takes. */
  put(id: number, unit: Float32Array): number {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.used++;
      if (slot >= this.scales.length) this.grow();
      this.slotOf.set(id, slot);
    }
    let max = 0;
    for (let i = 0; i < this.dim; i++) max = Math.max(max, Math.abs(unit[i]!));
    const scale = max === 0 ? 0 : max / 127;
    const base = slot * this.dim;
    for (let i = 0; i < this.dim; i++) this.data[base + i] = scale === 0 ? 0 : Math.round(unit[i]! / scale);
    this.scales[slot] = scale;
    return slot;
  }

  remove(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.freeSlots.push(slot);
  }

  /** Approximate dot product of a slot's vector with a float query. */
  scoreSlot(slot: number, query: Float32Array): number {
    const d = this.data;
    const base = slot * this.dim;
    let s0 = 0;
    let s1 = 0;
    let i = 0;
    for (; i + 1 < this.dim; i += 2) {
      s0 += query[i]! * d[base + i]!;
      s1 += query[i + 1]! * d[base + i + 1]!;
    }
    for (; i < this.dim; i++) s0 += query[i]! * d[base + i]!;
    return (s0 + s1) * this.scales[slot]!;
  }

  private grow(): void {
    const capacity = this.scales.length * 2;
    const data = new Int8Array(capacity * this.dim);
    data.set(this.data);
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.data = data;
    this.scales = scales;
  }
}
