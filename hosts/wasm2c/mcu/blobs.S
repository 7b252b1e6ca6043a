/* The model's read-only memory image (data segments, read in place) and the input samples, in flash. */
  .section .rodata.mbn, "a"
  .balign 8
  .global mbn_rom, mbn_input, mbn_input_end
mbn_rom:
  .incbin MBN_ROM
  .balign 8
mbn_input:
  .incbin MBN_INPUT
mbn_input_end:
