/* The part of wasm2c's runtime (wasm-rt.h) a bundle uses, for bare metal: no malloc, no signals, no
 * setjmp. The linear memory is mbn_split_mem.h's (flash image + static RAM array), so "allocating"
 * it only records its size; a trap prints one JSON line and exits through semihosting. */
#include <stdarg.h>
#include <stdbool.h>
#include "wasm-rt.h"
#include "semihost.h"

#if WASM_RT_USE_STACK_DEPTH_COUNT
uint32_t wasm_rt_call_stack_depth;
#endif
static bool initialized;

void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) {}

void wasm_rt_trap(wasm_rt_trap_t code) {
  static char line[] = "{\"engine\":\"c\",\"error\":\"wasm trap 0\"}\n";
  line[sizeof line - 5] = (char)('0' + (code % 10));
  sh_write0(line);
  sh_exit(1);
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  static uint32_t n;
  (void)params, (void)results;
  return n++; /* the bundle has no call_indirect: ids only need to be distinct */
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial_pages, uint32_t max_pages) {
  m->data = 0; /* never dereferenced under MBN_SPLIT_MEMORY */
  m->pages = initial_pages;
  m->max_pages = max_pages;
  m->size = initial_pages * 65536u;
}
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t pages) {
  (void)m, (void)pages;
  return 0xFFFFFFFFu; /* the plan's memory is fixed */
}
void wasm_rt_free_memory(wasm_rt_memory_t *m) { (void)m; }
