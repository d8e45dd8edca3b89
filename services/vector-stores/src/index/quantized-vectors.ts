import { int8Dot, wasm, type Int8Dot, type WasmMemory } from './int8-dot.js';

const PAGE = 65536;

/**
 * The one in-memory copy of one dimension's unit vectors: 8 bits per component with one scale per
 * vector (a quarter of Float32), in a WebAssembly memory so that the SIMD dot product reads them
 * in place. The graph (`ann-graph.ts`) uses the slots as its node numbers and walks these vectors;
 * the exact search of small candidate sets scans them. Both only preselect: the final candidates
 * are rescored from the stored Float32 vectors.
 *
 * Layout: `stride` bytes per vector (the dimension rounded up to 16, zero padding), the first
 * stride holding the quantized query of the current graph search, slot s at (s + 1) × stride.
 */
export class QuantizedVectors {
  readonly stride: number;
  private readonly blocks: number;
  private readonly memory: WasmMemory;
  private readonly dotAt: Int8Dot;
  private data: Int8Array;
  private scales: Float32Array;
  /** Slot → id (−1: free). */
  private ids: Int32Array;
  private readonly slotOf = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private used = 0;
  private queryScale = 0;

  constructor(
    readonly dim: number,
    initialCapacity = 1024,
  ) {
    this.stride = Math.max(16, Math.ceil(dim / 16) * 16);
    this.blocks = this.stride / 16;
    this.memory = new wasm.Memory({ initial: Math.ceil(((initialCapacity + 1) * this.stride) / PAGE) });
    this.data = new Int8Array(this.memory.buffer);
    this.dotAt = int8Dot(this.memory, () => this.data);
    this.scales = new Float32Array(initialCapacity);
    this.ids = new Int32Array(initialCapacity).fill(-1);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Slots allocated so far (the graph sizes its arrays to this). */
  get capacity(): number {
    return this.scales.length;
  }

  /** The id in a slot, −1 when free. */
  idAt(slot: number): number {
    return this.ids[slot]!;
  }

  slot(id: number): number | undefined {
    return this.slotOf.get(id);
  }

  /** Stores (or replaces) a vector; returns its slot, the handle the scores and the graph take. */
  put(id: number, unit: Float32Array): number {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.used++;
      if (slot >= this.scales.length) this.grow();
      this.slotOf.set(id, slot);
      this.ids[slot] = id;
    }
    this.scales[slot] = this.quantize(unit, (slot + 1) * this.stride);
    return slot;
  }

  /**
   * Frees the slot for another vector. The bytes stay until then: a graph node there keeps
   * routing searches (a tombstone) without being returned, as hnswlib's deleted marks do.
   */
  remove(id: number): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.ids[slot] = -1;
    this.freeSlots.push(slot);
  }

  /** Quantizes the query of a search (graph walk or exact scan) into the scratch stride (see `queryScore`). */
  setQuery(unit: Float32Array): void {
    this.queryScale = this.quantize(unit, 0);
  }

  /** Approximate dot product of the query set by `setQuery` with a slot's vector (SIMD). */
  queryScore(slot: number): number {
    return this.dotAt(0, (slot + 1) * this.stride, this.blocks) * this.queryScale * this.scales[slot]!;
  }

  /** Approximate dot product of two stored vectors (SIMD). */
  pairScore(a: number, b: number): number {
    return this.dotAt((a + 1) * this.stride, (b + 1) * this.stride, this.blocks) * this.scales[a]! * this.scales[b]!;
  }

  private quantize(unit: Float32Array, base: number): number {
    let max = 0;
    for (let i = 0; i < this.dim; i++) max = Math.max(max, Math.abs(unit[i]!));
    const scale = max === 0 ? 0 : max / 127;
    const d = this.data;
    for (let i = 0; i < this.dim; i++) d[base + i] = scale === 0 ? 0 : Math.round(unit[i]! / scale);
    return scale;
  }

  private grow(): void {
    const capacity = this.scales.length * 2;
    const need = Math.ceil(((capacity + 1) * this.stride) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (need > 0) this.memory.grow(need);
    // Growing detaches the old buffer: every view is made anew.
    this.data = new Int8Array(this.memory.buffer);
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.scales = scales;
    const ids = new Int32Array(capacity).fill(-1);
    ids.set(this.ids);
    this.ids = ids;
  }
}
