# Board mps2-an505 (QEMU): Cortex-M33 (Armv8-M mainline, single-precision FPU), secure state;
# CMSDK timer 0 at its secure alias 0x50000000, clocked at 20 MHz.
ARCH := -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16
TIMER0 := 0x50000000u
TICK_HZ := 20000000
