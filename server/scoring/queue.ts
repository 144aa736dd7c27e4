// Two small async primitives for the scoring pipeline: a channel (an unbounded FIFO whose
// readers wait for items and end once it is closed and empty) and a gate (a counting semaphore
// that can be thrown open for good when the run stops).

export class Channel<T> {
  private readonly items: T[] = [];
  private head = 0;
  private readonly waiting: ((x: T | undefined) => void)[] = [];
  private closed = false;

  push(x: T): void {
    if (this.closed) return;
    const w = this.waiting.shift();
    if (w) w(x);
    else this.items.push(x);
  }

  /** The next item; undefined once the channel is closed and empty. */
  pop(): Promise<T | undefined> {
    if (this.head < this.items.length) {
      const x = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve(x);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** No more items: readers get what is left, then undefined. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(undefined);
  }
}

export class Gate {
  private readonly waiting: (() => void)[] = [];
  private opened = false;

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.opened) return Promise.resolve();
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const w = this.waiting.shift();
    if (w) w();
    else this.free++;
  }

  /** Lets every waiter (and every later acquire) through: the run is stopping. */
  open(): void {
    this.opened = true;
    for (const w of this.waiting.splice(0)) w();
  }
}
