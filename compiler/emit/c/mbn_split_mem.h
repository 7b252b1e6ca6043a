/* mbn split linear memory for wasm2c output (used when built with -DMBN_SPLIT_MEMORY; the C target
 * includes it in place of wasm2c's little-endian load/store definitions, see compiler/emit/c_target.ts).
 *
 * The bundle's linear memory [0, MBN_MEM_END) has two parts (mbn_layout.h gives the numbers):
 *   [0, MBN_ROM_END)            the data segments (runtime constants, blob header, step table, kernel
 *                               records, packed weights): never written, read in place from `mbn_rom`
 *                               (flash on a microcontroller: const, no copy at start-up)
 *   [MBN_ROM_END, MBN_MEM_END)  input, output, scratch and the activation arena: `mbn_ram`, a static
 *                               array of exactly what the plan needs (no heap)
 * Every access is bounds-checked against its part; a store below MBN_ROM_END traps (a runtime that
 * wrote its constants would be caught, not silently diverge). LOAD_DATA does nothing: the host
 * provides `mbn_rom` already holding the segments (the image `mbn_rom.bin`). */
#ifndef MBN_SPLIT_MEM_H
#define MBN_SPLIT_MEM_H
#include "mbn_layout.h"

extern const u8 mbn_rom[MBN_ROM_END];
extern u8 mbn_ram[MBN_MEM_END - MBN_ROM_END];

#define LOAD_DATA(m, o, i, s) ((void)0)

static inline const u8* mbn_ld_ptr(u64 addr, u32 n) {
  if (addr < MBN_ROM_END) {
    if (UNLIKELY(addr + n > MBN_ROM_END)) TRAP(OOB);
    return mbn_rom + addr;
  }
  if (UNLIKELY(addr + n > MBN_MEM_END)) TRAP(OOB);
  return mbn_ram + (addr - MBN_ROM_END);
}
static inline u8* mbn_st_ptr(u64 addr, u32 n) {
  if (UNLIKELY(addr < MBN_ROM_END || addr + n > MBN_MEM_END)) TRAP(OOB);
  return mbn_ram + (addr - MBN_ROM_END);
}

#define DEFINE_LOAD(name, t1, t2, t3)                                \
  static inline t3 name(wasm_rt_memory_t* mem, u64 addr) {           \
    (void)mem;                                                       \
    t1 result;                                                       \
    wasm_rt_memcpy(&result, mbn_ld_ptr(addr, sizeof(t1)), sizeof(t1)); \
    return (t3)(t2)result;                                           \
  }
#define DEFINE_STORE(name, t1, t2)                                       \
  static inline void name(wasm_rt_memory_t* mem, u64 addr, t2 value) {   \
    (void)mem;                                                           \
    t1 wrapped = (t1)value;                                              \
    wasm_rt_memcpy(mbn_st_ptr(addr, sizeof(t1)), &wrapped, sizeof(t1));  \
  }
#endif
