/**
 * A binary heap of (node, score) pairs in two parallel arrays, reused across searches: the graph
 * walk pushes and pops thousands of entries per insertion, and objects per entry would make most
 * of that garbage. `best`: the highest score on top (candidates to expand); otherwise the lowest
 * (the result set, whose worst member is the one to drop).
 */
export class ScoredHeap {
  nodes: number[] = [];
  scores: number[] = [];
  size = 0;

  constructor(private readonly best: boolean) {}

  clear(): void {
    this.size = 0;
  }

  get topNode(): number {
    return this.nodes[0]!;
  }

  get topScore(): number {
    return this.scores[0]!;
  }

  /** True when a should sit above b. */
  private above(a: number, b: number): boolean {
    return this.best ? a > b : a < b;
  }

  push(node: number, score: number): void {
    let i = this.size++;
    const { nodes, scores } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(score, scores[parent]!)) break;
      nodes[i] = nodes[parent]!;
      scores[i] = scores[parent]!;
      i = parent;
    }
    nodes[i] = node;
    scores[i] = score;
  }

  /** Removes the top (read it with topNode / topScore first). */
  pop(): void {
    const n = --this.size;
    if (n <= 0) return;
    const { nodes, scores } = this;
    const node = nodes[n]!;
    const score = scores[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.above(scores[child + 1]!, scores[child]!)) child++;
      if (!this.above(scores[child]!, score)) break;
      nodes[i] = nodes[child]!;
      scores[i] = scores[child]!;
      i = child;
    }
    nodes[i] = node;
    scores[i] = score;
  }

  /** The entries best first (a copy; the heap is left as it is). */
  sortedBestFirst(): { nodes: number[]; scores: number[] } {
    const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => this.scores[b]! - this.scores[a]!);
    return { nodes: order.map((i) => this.nodes[i]!), scores: order.map((i) => this.scores[i]!) };
  }
}
