/**
 * A growable list of 32-bit integers. The chunker keeps a window's worth of token ids and offsets:
 * a plain array grown by push to a million entries costs several times more than this (measured).
 */
export class IntList {
  items: Int32Array;
  length = 0;

  constructor(capacity = 16 * 1024) {
    this.items = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.items.length) this.grow();
    this.items[this.length++] = value;
  }

  /** Drops the first `n` entries. */
  dropFirst(n: number): void {
    this.items.copyWithin(0, n, this.length);
    this.length -= n;
  }

  private grow(): void {
    const larger = new Int32Array(this.items.length * 2);
    larger.set(this.items);
    this.items = larger;
  }
}
