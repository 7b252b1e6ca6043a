# Board mps2-an386 (QEMU): Cortex-M4 with single-precision FPU; CMSDK timer 0 at 0x40000000, clocked at 25 MHz.
ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
TIMER0 := 0x40000000u
TICK_HZ := 25000000
