/* What both mbn firmwares do with the board: its CMSDK timer 0 as an instruction counter and the
 * stack's high-water mark. MBN_TIMER0 and MBN_TICK_HZ come from hosts/mcu/<board>.mk. Under
 * `qemu -icount shift=0` (1 instruction = 1 ns of virtual time) a tick is 1e9 / MBN_TICK_HZ
 * instructions; calibrate() times a loop of known length so the host can check that. */
#ifndef MBN_BOARD_H
#define MBN_BOARD_H
#include <stdint.h>

#ifndef MBN_TIMER0
#define MBN_TIMER0 0x40000000u
#endif
#ifndef MBN_TICK_HZ
#define MBN_TICK_HZ 25000000
#endif
#define MBN_STR_(x) #x
#define MBN_STR(x) MBN_STR_(x)
#define TIMER0 ((volatile uint32_t *)MBN_TIMER0) /* CTRL, VALUE, RELOAD, INTSTATUS */
#define STACK_PAINT_WORD 0x5AA5C33Cu

extern uint8_t __stack_top;

/* the down-counter, free running from 0xFFFFFFFF */
static inline void timer_start(void) {
  TIMER0[0] = 0;
  TIMER0[2] = 0xFFFFFFFFu;
  TIMER0[1] = 0xFFFFFFFFu;
  TIMER0[0] = 1; /* enable, no interrupt */
}
static inline uint32_t ticks(void) { return TIMER0[1]; }

/* Ticks of a loop of exactly 2·n instructions (subs + bne): the instructions-per-tick check. */
static inline uint32_t calibrate(uint32_t n) {
  const uint32_t t0 = ticks();
  __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
  return t0 - ticks();
}

/* Paint `bytes` of stack below the caller's frame (call first thing in main); stack_high_water()
 * then gives the bytes used from the stack top down to the deepest overwritten word. */
static uint32_t *stack_lo;
static uint8_t *stack_sp;
#define stack_paint(bytes)                                                                    \
  do {                                                                                        \
    stack_sp = (uint8_t *)__builtin_frame_address(0);                                         \
    stack_lo = (uint32_t *)((uintptr_t)(stack_sp - (bytes)) & ~7u);                           \
    for (volatile uint32_t *p_ = stack_lo; (uint8_t *)p_ < stack_sp - 256; p_++) *p_ = STACK_PAINT_WORD; \
  } while (0)
static inline uint32_t stack_high_water(void) {
  uint32_t *p = stack_lo;
  while ((uint8_t *)p < stack_sp && *p == STACK_PAINT_WORD) p++;
  return (uint32_t)(&__stack_top - (uint8_t *)p);
}
#endif
