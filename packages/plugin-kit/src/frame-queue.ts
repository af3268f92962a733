/**
 * A FIFO over a plain array with a moving head, so taking from the front costs no copy
 * (`Array#shift` is linear once the array is large). The array is reset when it empties and
 * compacted when the consumed prefix grows past a threshold, so memory follows what is queued.
 * It has no bound of its own: the credits of the channel that fills it are the bound.
 */
export class FrameQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
