/* Minimal Cortex-M start-up of the mbn firmwares: vector table, .data copy, .bss clear, FPU on, main,
 * exit through semihosting. With -DMBN_NEWLIB_IO (the wasm3 firmware) newlib's semihosting stdio
 * (librdimon) is set up first and main's status goes through exit() (which flushes stdout); the C
 * firmware has no C library start-up at all (no heap, no stdio). A fault prints one JSON line. */
#include <stdint.h>
#include "semihost.h"
#ifdef MBN_NEWLIB_IO
#include <stdlib.h>
extern void initialise_monitor_handles(void);
#endif

extern uint32_t __data_load, __data_start, __data_end, __bss_start__, __bss_end__, __stack_top;
extern int main(void);

void Reset_Handler(void);
static void Fault_Handler(void) {
  sh_write0("{\"error\":\"hard fault\"}\n");
  sh_exit(1);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
  (void (*)(void))&__stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
};

void Reset_Handler(void) {
  for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
  for (uint32_t *d = &__bss_start__; d < &__bss_end__;) *d++ = 0;
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 full access (FPU) */
  __asm volatile("dsb\n isb");
#ifdef MBN_NEWLIB_IO
  initialise_monitor_handles();
  exit(main());
#else
  sh_exit(main());
#endif
}
