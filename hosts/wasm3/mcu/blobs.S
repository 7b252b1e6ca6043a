/* The bundle and the input samples, embedded in flash (paths from the Makefile). */
  .section .rodata.mbn, "a"
  .balign 8
  .global mbn_bundle, mbn_bundle_end, mbn_input, mbn_input_end
mbn_bundle:
  .incbin MBN_BUNDLE
mbn_bundle_end:
  .balign 8
mbn_input:
  .incbin MBN_INPUT
mbn_input_end:
