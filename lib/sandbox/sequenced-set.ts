/**
 * An insertion-ordered set in which every key gets an increasing sequence number, so that a
 * paging cursor of the form "continue from sequence n" survives additions and removals between
 * pages: nobody is skipped because someone before them left, which is what a real directory's
 * cursor guarantees and an array offset does not.
 *
 * Removal leaves a tombstone that is swept when tombstones outnumber live keys, so removals and
 * page starts (binary search) stay cheap for the 10,000-user benchmark.
 */
export class SequencedSet<K> {
  private seqs: number[] = [];
  private keys: K[] = [];
  private readonly live = new Map<K, number>();
  private next = 1;

  get size(): number {
    return this.live.size;
  }

  has(key: K): boolean {
    return this.live.has(key);
  }

  /** Adds the key at the end (keeping its place if already present) and returns its sequence. */
  add(key: K): number {
    const existing = this.live.get(key);
    if (existing !== undefined) return existing;
    const seq = this.next++;
    this.seqs.push(seq);
    this.keys.push(key);
    this.live.set(key, seq);
    return seq;
  }

  delete(key: K): boolean {
    if (!this.live.delete(key)) return false;
    const dead = this.seqs.length - this.live.size;
    if (dead > 32 && dead > this.live.size) this.sweep();
    return true;
  }

  /** Live keys in sequence order. */
  values(): IterableIterator<K> {
    return this.live.keys();
  }

  /** Live entries whose sequence is at least `from`, in order. */
  *from(from: number): Generator<{ seq: number; key: K }> {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.seqs.length; i++) {
      const key = this.keys[i]!;
      const seq = this.seqs[i]!;
      if (this.live.get(key) === seq) yield { seq, key };
    }
  }

  private sweep(): void {
    // Map iteration order is insertion order, and a re-added key is inserted anew with a higher
    // sequence, so the map already lists live keys in sequence order.
    this.seqs = [...this.live.values()];
    this.keys = [...this.live.keys()];
  }
}
