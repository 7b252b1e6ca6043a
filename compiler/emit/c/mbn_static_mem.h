/* mbn static linear memory for wasm2c output (used when built with -DMBN_STATIC_MEMORY; the C target
 * includes it in place of wasm2c's little-endian load/store definitions, see compiler/emit/c_target.ts).
 *
 * For hosts without mmap or guard pages: the linear memory is one static array of the bytes the plan
 * needs (mbn_layout.h: MBN_MEM_END) with a link-time constant base (wasm2c's default reads
 * `instance->w2c_memory.data` again after every store, which a u8 store may alias); each access is
 * checked against the constant end; the data segments are copied in at instantiation (LOAD_DATA). The
 * host reads inputs and outputs through `mbn_mem`. */
#ifndef MBN_STATIC_MEM_H
#define MBN_STATIC_MEM_H
#include "mbn_layout.h"

extern u8 mbn_mem[MBN_MEM_END];
#ifdef MBN_UNCHECKED /* profiling only: what the checks cost (an out-of-bounds access is then undefined) */
#define MBN_CHECK(a, n) ((void)0)
#else
#define MBN_CHECK(a, n) \
  if (UNLIKELY((a) + (n) > MBN_MEM_END)) TRAP(OOB)
#endif

#define LOAD_DATA(m, o, i, s)                                 \
  do {                                                        \
    if (UNLIKELY((u64)(o) + (s) > MBN_MEM_END)) TRAP(OOB);    \
    memcpy(mbn_mem + (o), i, s);                              \
  } while (0)

#define DEFINE_LOAD(name, t1, t2, t3)                            \
  static inline t3 name(wasm_rt_memory_t* mem, u64 addr) {       \
    (void)mem;                                                   \
    MBN_CHECK(addr, sizeof(t1));                                 \
    t1 result;                                                   \
    wasm_rt_memcpy(&result, mbn_mem + addr, sizeof(t1));         \
    return (t3)(t2)result;                                       \
  }
#define DEFINE_STORE(name, t1, t2)                                       \
  static inline void name(wasm_rt_memory_t* mem, u64 addr, t2 value) {   \
    (void)mem;                                                           \
    MBN_CHECK(addr, sizeof(t1));                                         \
    t1 wrapped = (t1)value;                                              \
    wasm_rt_memcpy(mbn_mem + addr, &wrapped, sizeof(t1));                \
  }
#endif
