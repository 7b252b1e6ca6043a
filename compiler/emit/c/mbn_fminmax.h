/* WebAssembly f32/f64 min and max without branches, for wasm2c output (the C target includes it in
 * place of wasm2c's FMIN/FMAX, see compiler/emit/c_target.ts). Same results as wasm2c's macros: NaN in
 * either operand gives NAN (the quiet NaN 0x7fc00000 / 0x7ff8000000000000), and -0 < +0. wasm2c's
 * macros branch on the comparison, which a ReLU (max(x, 0)) on real activations mispredicts about
 * half of the time; here each case is a select on the operands' bits (a conditional move). */
#ifndef MBN_FMINMAX_H
#define MBN_FMINMAX_H
#include <string.h>

#define MBN_MINMAX(name, T, U, qnan, pick, zero)      \
  static inline T name(T x, T y) {                     \
    U a, b, r;                                         \
    T f;                                               \
    memcpy(&a, &x, sizeof a);                          \
    memcpy(&b, &y, sizeof b);                          \
    r = (pick) ? a : b;                                \
    r = x == y ? (zero) : r; /* equal: -0 and +0 */    \
    r = ((x != x) | (y != y)) ? (U)(qnan) : r;         \
    memcpy(&f, &r, sizeof f);                          \
    return f;                                          \
  }
MBN_MINMAX(mbn_fminf, f32, u32, 0x7fc00000u, x < y, a | b)
MBN_MINMAX(mbn_fmaxf, f32, u32, 0x7fc00000u, x > y, a & b)
MBN_MINMAX(mbn_fmin, f64, u64, 0x7ff8000000000000ull, x < y, a | b)
MBN_MINMAX(mbn_fmax, f64, u64, 0x7ff8000000000000ull, x > y, a & b)

#define FMIN(x, y) _Generic((x), f32: mbn_fminf, f64: mbn_fmin)((x), (y))
#define FMAX(x, y) _Generic((x), f32: mbn_fmaxf, f64: mbn_fmax)((x), (y))
#endif
