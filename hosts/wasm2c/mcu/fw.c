/*
 * mbn firmware for a Cortex-M board (QEMU mps2-an386 / mps2-an505), C engine: the scalar bundle
 * translated by wasm2c (the C target), its linear memory split into the read-only image in flash
 * (mbn_rom, read in place) and one static RAM array of what the plan needs (mbn_ram) — no heap.
 * Runs the input samples embedded in flash; output on the semihosting console, as the wasm3 firmware:
 *   mbn-fw out <i> <hex>       the mbn_output_len() float32 of sample i, each as 8 hex digits (LE bits)
 *   {"engine":"c","selftest":…,"samples":n,"ticks_per_run":[…],"tick_hz":25000000,
 *    "calibration":{"instructions":2000000,"ticks":…},"heap_bytes":0,"stack_bytes":…,"static_bytes":…}
 * Ticks are counts of the board's CMSDK timer 0 (25 MHz on mps2-an386, 20 MHz on mps2-an505); under
 * `qemu -icount shift=0` a tick is exactly 40 (50) guest instructions (1 instruction = 1 ns of virtual
 * time), see the Makefile.
 */
#include <stdint.h>
#include <string.h>
#include "wasm-rt.h"
#include "mbn_model.h"
#include "mbn_layout.h"
#include "semihost.h"
#include "board.h"

#define STACK_PAINT (32 * 1024)

extern const uint8_t mbn_input[], mbn_input_end[];
extern uint8_t __data_start, __bss_end__;
__attribute__((aligned(16))) u8 mbn_ram[MBN_MEM_END - MBN_ROM_END];

static Z_mbn_instance_t inst;
static char line[1024];
static uint32_t len;

static void put(const char *s) {
  while (*s && len < sizeof line - 1) line[len++] = *s++;
}
static void put_u(uint32_t v) {
  char b[11];
  int i = 10;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while (v /= 10);
  put(b + i);
}
static void put_hex(uint32_t v) {
  char b[9];
  for (int i = 7; i >= 0; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
  b[8] = 0;
  put(b);
}
static void flush(void) {
  line[len] = 0;
  sh_write0(line);
  len = 0;
}

/* linear-memory address → RAM (input and output live above the read-only image) */
static u8 *ram_at(uint32_t p, uint32_t n) {
  if (p < MBN_ROM_END || (uint64_t)p + n > MBN_MEM_END) {
    sh_write0("{\"engine\":\"c\",\"error\":\"memory: input/output outside the RAM part of the linear memory\"}\n");
    sh_exit(1);
  }
  return mbn_ram + (p - MBN_ROM_END);
}

int main(void) {
  stack_paint(STACK_PAINT);
  timer_start();
  const uint32_t calib = calibrate(1000000);

  wasm_rt_init();
  Z_mbn_init_module();
  Z_mbn_instantiate(&inst);
  const uint32_t in_len = Z_mbnZ_mbn_input_len(&inst), out_len = Z_mbnZ_mbn_output_len(&inst);
  const uint32_t selftest = Z_mbnZ_mbn_selftest(&inst);

  const uint32_t n = (uint32_t)(mbn_input_end - mbn_input) / (in_len * 4);
  uint32_t per[16];
  for (uint32_t s = 0; s < n; s++) {
    memcpy(ram_at(Z_mbnZ_mbn_input_ptr(&inst), in_len * 4), mbn_input + s * in_len * 4, in_len * 4);
    const uint32_t t0 = ticks();
    const uint32_t rc = Z_mbnZ_mbn_run(&inst);
    const uint32_t t1 = ticks();
    if (rc) {
      put("{\"engine\":\"c\",\"error\":\"mbn_run returned ");
      put_u(rc);
      put("\"}\n");
      flush();
      return 1;
    }
    if (s < 16) per[s] = t0 - t1; /* down-counter */
    const u8 *y = ram_at(Z_mbnZ_mbn_output_ptr(&inst), out_len * 4);
    put("mbn-fw out ");
    put_u(s);
    put(" ");
    for (uint32_t i = 0; i < out_len; i++) {
      uint32_t v;
      memcpy(&v, y + 4 * i, 4);
      put_hex(v);
      if (len > sizeof line - 16) flush();
    }
    put("\n");
    flush();
  }

  put("{\"engine\":\"c\",\"selftest\":");
  put_u(selftest);
  put(",\"samples\":");
  put_u(n);
  put(",\"ticks_per_run\":[");
  for (uint32_t s = 0; s < n && s < 16; s++) {
    if (s) put(",");
    put_u(per[s]);
  }
  put("],\"tick_hz\":" MBN_STR(MBN_TICK_HZ) ",\"calibration\":{\"instructions\":2000000,\"ticks\":");
  put_u(calib);
  put("},\"heap_bytes\":0,\"stack_bytes\":");
  put_u(stack_high_water());
  put(",\"static_bytes\":");
  put_u((uint32_t)(&__bss_end__ - &__data_start));
  put(",\"rom_bytes\":");
  put_u(MBN_ROM_END);
  put(",\"ram_array_bytes\":");
  put_u(MBN_MEM_END - MBN_ROM_END);
  put("}\n");
  flush();
  return 0;
}
