/*
 * mbn firmware for a Cortex-M board (QEMU mps2-an386 / mps2-an505): wasm3 runs an mbn scalar bundle
 * embedded in flash, on the input samples embedded next to it. Output on the semihosting console:
 *   mbn-fw out <i> <hex>       the mbn_output_len() float32 of sample i, each as 8 hex digits (LE bits)
 *   {"engine":"wasm3","selftest":…,"samples":n,"ticks_per_run":[…],"tick_hz":25000000,
 *    "calibration":{"instructions":2000000,"ticks":…},"heap_bytes":…,"stack_bytes":…,"static_bytes":…}
 * Ticks are counts of the board's CMSDK timer 0 (25 MHz on mps2-an386, 20 MHz on mps2-an505); under
 * `qemu -icount shift=0` a tick is exactly 40 (50) guest instructions (1 instruction = 1 ns of virtual
 * time), see the Makefile.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wasm3.h"
#include "m3_env.h" /* IM3Runtime's memoryLimit */
#include "board.h"

#ifndef MBN_M3_STACK
#define MBN_M3_STACK (16 * 1024)
#endif
#ifndef MBN_MEM_BYTES
#define MBN_MEM_BYTES 0 /* 0: whole 64 KiB pages, as the bundle declares */
#endif
#define STACK_PAINT (48 * 1024)

extern const uint8_t mbn_bundle[], mbn_bundle_end[], mbn_input[], mbn_input_end[];
extern uint8_t end, __data_start, __bss_end__;


static IM3Runtime runtime;

static void fail(const char *what, const char *why) {
  printf("{\"engine\":\"wasm3\",\"error\":\"%s: %s\"}\n", what, why);
  fflush(stdout);
  _exit(1);
}

static IM3Function find(const char *name) {
  IM3Function fn;
  M3Result r = m3_FindFunction(&fn, runtime, name);
  if (r) fail(name, r);
  return fn;
}

static int32_t call_i32(IM3Function fn, const char *name) {
  M3Result r = m3_CallV(fn);
  if (r) fail(name, r);
  int32_t v = 0;
  r = m3_GetResultsV(fn, &v);
  if (r) fail(name, r);
  return v;
}

static uint8_t *mem_at(uint32_t p, uint32_t n) {
  uint32_t size = 0;
  uint8_t *mem = m3_GetMemory(runtime, &size, 0);
  if (!mem || (uint64_t)p + n > size) fail("memory", "outside the bundle's linear memory");
  return mem + p;
}

int main(void) {
  stack_paint(STACK_PAINT);
  timer_start();
  const uint32_t calib = calibrate(1000000);

  IM3Environment env = m3_NewEnvironment();
  if (!env) fail("wasm3", "m3_NewEnvironment failed");
  runtime = m3_NewRuntime(env, MBN_M3_STACK, NULL);
  if (!runtime) fail("wasm3", "m3_NewRuntime failed");
  /* the linear memory wasm3 allocates: what the plan needs (the manifest's memory_bytes), not whole pages;
     memory.size still reports the declared pages, accesses are checked against this length */
  runtime->memoryLimit = (MBN_MEM_BYTES + 63u) & ~63u;
  IM3Module module;
  M3Result r = m3_ParseModule(env, &module, mbn_bundle, (uint32_t)(mbn_bundle_end - mbn_bundle));
  if (r) fail("parse", r);
  if ((r = m3_LoadModule(runtime, module))) fail("load", r);
  /* no m3_CompileModule: wasm3 compiles a function when it is first called, so only the kernels this
     model runs take RAM for compiled code (all of them run in mbn_selftest, before the timed samples) */
  if ((r = m3_RunStart(module))) fail("start", r);

  IM3Function f_run = find("mbn_run"), f_in = find("mbn_input_ptr"), f_out = find("mbn_output_ptr");
  const uint32_t in_len = (uint32_t)call_i32(find("mbn_input_len"), "mbn_input_len");
  const uint32_t out_len = (uint32_t)call_i32(find("mbn_output_len"), "mbn_output_len");
  const uint32_t selftest = (uint32_t)call_i32(find("mbn_selftest"), "mbn_selftest");

  const uint32_t n = (uint32_t)(mbn_input_end - mbn_input) / (in_len * 4);
  uint32_t per[16];
  for (uint32_t s = 0; s < n; s++) {
    memcpy(mem_at((uint32_t)call_i32(f_in, "mbn_input_ptr"), in_len * 4), mbn_input + s * in_len * 4, in_len * 4);
    const uint32_t t0 = ticks();
    const int32_t rc = call_i32(f_run, "mbn_run");
    const uint32_t t1 = ticks();
    if (rc) fail("mbn_run", "returned an error code");
    if (s < 16) per[s] = t0 - t1; /* down-counter */
    const uint32_t *y = (const uint32_t *)mem_at((uint32_t)call_i32(f_out, "mbn_output_ptr"), out_len * 4);
    printf("mbn-fw out %lu ", (unsigned long)s);
    for (uint32_t i = 0; i < out_len; i++) printf("%08lx", (unsigned long)y[i]);
    printf("\n");
  }

  const uint32_t stack_bytes = stack_high_water();
  const uint32_t heap_bytes = (uint32_t)((uint8_t *)sbrk(0) - &end);
  printf("{\"engine\":\"wasm3\",\"selftest\":%lu,\"samples\":%lu,\"ticks_per_run\":[", (unsigned long)selftest, (unsigned long)n);
  for (uint32_t s = 0; s < n && s < 16; s++) printf("%s%lu", s ? "," : "", (unsigned long)per[s]);
  printf("],\"tick_hz\":" MBN_STR(MBN_TICK_HZ) ",\"calibration\":{\"instructions\":2000000,\"ticks\":%lu},\"heap_bytes\":%lu,\"stack_bytes\":%lu,\"static_bytes\":%lu}\n", (unsigned long)calib,
         (unsigned long)heap_bytes, (unsigned long)stack_bytes, (unsigned long)(&__bss_end__ - &__data_start));
  fflush(stdout);
  return 0;
}
