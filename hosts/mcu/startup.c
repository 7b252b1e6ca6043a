/* Minimal Cortex-M start-up for the mbn C firmware: vector table, .data copy, .bss clear, FPU on,
 * main, exit through semihosting. No C library start-up (no heap, no stdio). */
#include <stdint.h>
#include "semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start__, __bss_end__, __stack_top;
extern int main(void);

void Reset_Handler(void);
static void Fault_Handler(void) {
  sh_write0("{\"engine\":\"c\",\"error\":\"hard fault\"}\n");
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
  sh_exit(main());
}
