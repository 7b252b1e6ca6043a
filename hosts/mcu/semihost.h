/* ARM semihosting for the mbn C firmware (QEMU: -semihosting-config enable=on): text out, exit.
 * No newlib stdio, so nothing on the console path allocates. */
#ifndef MBN_SEMIHOST_H
#define MBN_SEMIHOST_H
#include <stdint.h>

static inline uint32_t sh_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt #0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
static inline void sh_write0(const char *s) { sh_call(0x04, s); } /* SYS_WRITE0 */
/* SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or ADP_Stopped_RunTimeErrorUnknown (exits 1) */
static inline __attribute__((noreturn)) void sh_exit(int fail) {
  sh_call(0x18, (const void *)(uintptr_t)(fail ? 0x20023u : 0x20026u));
  for (;;) {}
}
#endif
