// Compiler (emit stage): lays buffers and kernel parameter records out in a linear-memory image at a
// fixed base address, using the one kernel list (runtime/kernels.json) for slot order. The blob
// writer, the kernel tests and the kernel benchmark all build their memory images with this.
import kernelList from "../../runtime/kernels.json" with { type: "json" };

export interface KernelSpec {
  name: string;
  params: string[];
}
export const KERNELS: KernelSpec[] = kernelList.kernels;
export const RECORDS: Record<string, string[]> = kernelList.records;
export const KERNEL_ID: Record<string, number> = Object.fromEntries(KERNELS.map((k, i) => [k.name, i]));

export type ParamValues = Record<string, number>;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Growable little-endian memory image starting at absolute address `base`. `capacity` pre-sizes it
 * (a second pass that knows the size); a `measure` layout only places things and writes nothing.
 */
export class Layout {
  private buf: Uint8Array;
  private view: DataView;
  size = 0;
  constructor(readonly base: number, capacity = 1 << 16, readonly measure = false) {
    this.buf = new Uint8Array(measure ? 0 : Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Reserve n bytes aligned to `align`; returns the absolute address. */
  alloc(n: number, align = 16): number {
    const start = Math.ceil(this.size / align) * align;
    this.ensure(start + n);
    this.size = start + n;
    return this.base + start;
  }
  private ensure(n: number): void {
    if (this.measure || n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  bytes(data: Uint8Array, align = 16): number {
    const at = this.alloc(data.length, align);
    if (this.measure) return at;
    this.buf.set(data, at - this.base);
    return at;
  }
  f32(data: ArrayLike<number>): number {
    const at = this.alloc(data.length * 4);
    if (this.measure) return at;
    if (LITTLE_ENDIAN) new Float32Array(this.buf.buffer, at - this.base, data.length).set(data);
    else for (let i = 0; i < data.length; i++) this.view.setFloat32(at - this.base + 4 * i, data[i], true);
    return at;
  }
  i32(data: ArrayLike<number>): number {
    const at = this.alloc(data.length * 4, 4);
    if (!this.measure) for (let i = 0; i < data.length; i++) this.view.setInt32(at - this.base + 4 * i, data[i], true);
    return at;
  }
  setI32(addr: number, v: number): void {
    if (!this.measure) this.view.setInt32(addr - this.base, v, true);
  }
  /** Write a record of named slots (":f32" slots as float bits); unknown or missing names throw. */
  record(slots: string[], values: ParamValues, what: string): number {
    const known = new Set(slots.map((s) => s.split(":")[0]));
    for (const k of Object.keys(values)) if (!known.has(k)) throw new Error(`${what}: unknown slot '${k}'`);
    const at = this.alloc(slots.length * 4, 4);
    if (this.measure) return at;
    slots.forEach((slot, i) => {
      const [name, type] = slot.split(":");
      const v = values[name];
      if (v === undefined) throw new Error(`${what}: missing slot '${name}'`);
      if (type === "f32") this.view.setFloat32(at - this.base + 4 * i, v, true);
      else this.view.setInt32(at - this.base + 4 * i, v, true);
    });
    return at;
  }
  params(kernel: string, values: ParamValues): number {
    const spec = KERNELS[KERNEL_ID[kernel]];
    if (!spec) throw new Error(`unknown kernel '${kernel}'`);
    return this.record(spec.params, values, kernel);
  }
  /** The bytes written (the buffer itself when it was sized exactly: no copy). */
  image(): Uint8Array {
    return this.size === this.buf.length ? this.buf : this.buf.slice(0, this.size);
  }
}
