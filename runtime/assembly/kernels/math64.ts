// Runtime: compact float64 functions for the float fallback's less common opcodes (sinh, cosh,
// asinh, acosh, atanh, erf), each accurate to ~1e-15 relative and rounded once to float32 by the
// caller. AssemblyScript's std-lib versions of these cost ~7 KiB of code per bundle (expm1, log1p and
// their tables); these cost a few hundred bytes. Derivations:
//  exp: x = k·ln2 + r, |r| ≤ ln2/2 (ln2 split in a 32-bit head and a tail, so k·head is exact),
//       e^r by its Taylor series to r¹³/13! (< 1e-17), scaled by 2^k through the exponent bits;
//  log: x = m·2^e with m ∈ [√½, √2), ln m = 2·atanh(t), t = (m − 1)/(m + 1), |t| ≤ 0.172, by the odd
//       series Σ t^(2i+1)/(2i+1) to t²³;  log1p(u) = 2·atanh(u/(2 + u)) by the same series (no
//       cancellation for small u);  atanh(z) for |z| < 0.5 likewise.

/** 2^k for integer k in [−1074, 1023]. */
function pow2(k: i32): f64 {
  if (k < -1022) return reinterpret<f64>(<i64>(k + 1022 + 1023) << 52) * reinterpret<f64>(<i64>1 << 52); // ·2^−1022
  return reinterpret<f64>(<i64>(k + 1023) << 52);
}

export function exp64(x: f64): f64 {
  if (x != x) return x;
  if (x > 709.78) return Infinity;
  if (x < -745.2) return 0;
  const k = nearest(x * 1.4426950408889634);
  const r = x - k * 6.93147180369123816490e-1 - k * 1.90821492927058770002e-10;
  let s = 1.0, t = 1.0;
  for (let i = 1; i <= 13; i++) {
    t *= r / <f64>i;
    s += t;
  }
  const ki = <i32>k;
  return ki > 1000 ? s * pow2(ki - 500) * pow2(500) : s * pow2(ki);
}

/** 2·atanh(t) = 2·Σ t^(2i+1)/(2i+1) for |t| < 0.5. */
function atanhSeries2(t: f64): f64 {
  const t2 = t * t;
  let p = t, s = t;
  for (let i = 1; i < 24; i++) {
    p *= t2;
    s += p / <f64>(2 * i + 1);
  }
  return 2 * s;
}

export function log64(x: f64): f64 {
  if (x != x || x < 0) return NaN;
  if (x == 0) return -Infinity;
  if (x == Infinity) return x;
  let e: i32 = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984.0; // 2^54: normalise a subnormal
    e = -54;
  }
  const bits = reinterpret<i64>(x);
  e += <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  return atanhSeries2((m - 1) / (m + 1)) + <f64>e * 6.93147180559945286227e-1;
}

/** log(1 + u) for u ≥ −1, without cancellation for small |u|. */
export function log1p64(u: f64): f64 {
  return u > -0.5 && u < 1 ? atanhSeries2(u / (2 + u)) : log64(1 + u);
}

export function sinh64(x: f64): f64 {
  const a = Math.abs(x);
  let r: f64;
  if (a < 0.5) {
    const x2 = a * a; // a + a³/3! + … to a¹⁵/15!
    let t = a;
    r = a;
    for (let i = 1; i < 8; i++) {
      t *= x2 / <f64>((2 * i) * (2 * i + 1));
      r += t;
    }
  } else {
    const e = exp64(a);
    r = 0.5 * e - 0.5 / e;
  }
  return x < 0 ? -r : r;
}

export function cosh64(x: f64): f64 {
  const e = exp64(Math.abs(x));
  return 0.5 * e + 0.5 / e;
}

export function asinh64(x: f64): f64 {
  const a = Math.abs(x);
  // log(a + √(a² + 1)) = log1p(a + a²/(1 + √(1 + a²))); for huge a, log(2a)
  const r = a > 1e150 ? log64(a) + 6.93147180559945286227e-1 : log1p64(a + (a * a) / (1 + Math.sqrt(1 + a * a)));
  return x < 0 ? -r : r;
}

export function acosh64(x: f64): f64 {
  if (!(x >= 1)) return NaN;
  if (x > 1e150) return log64(x) + 6.93147180559945286227e-1;
  const d = x - 1; // exact for a float32 x; log(x + √(x² − 1)) = log1p(d + √(2d + d²))
  return log1p64(d + Math.sqrt(2 * d + d * d));
}

export function atanh64(x: f64): f64 {
  const a = Math.abs(x);
  if (a > 1) return NaN;
  const r = a < 0.5 ? 0.5 * atanhSeries2(a) : 0.5 * log1p64((2 * a) / (1 - a));
  return x < 0 ? -r : r;
}

/**
 * erf: |x| < 0.5 by its Maclaurin series (error < 1e-12), larger |x| by the complementary form
 * 1 − t·exp(−x² + P(t)) of Numerical Recipes' erfc (fractional error < 1.2e-7).
 */
export function erf64(x: f64): f64 {
  const a = Math.abs(x);
  if (a < 0.5) {
    const x2 = x * x;
    let term = x, sum = x;
    for (let k = 1; k < 12; k++) {
      term *= -x2 / <f64>k;
      sum += term / <f64>(2 * k + 1);
    }
    return sum * 1.1283791670955126; // 2/√π
  }
  const t = 1.0 / (1.0 + 0.5 * a);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = 1.0 - t * exp64(-a * a + poly);
  return x < 0 ? -r : r;
}
