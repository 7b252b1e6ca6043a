// Reference maths shared by the reference interpreter and the kernel references: functions that
// JavaScript's Math lacks, written as the runtime computes them (kernels/elementwise_f32.ts).

/**
 * erf in float64: |x| < 0.5 by its Maclaurin series (error < 1e-12), larger |x| by the complementary
 * form 1 − t·exp(−x² + P(t)) of Numerical Recipes' erfc (fractional error < 1.2e-7).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 0.5) {
    const x2 = x * x;
    let term = x, sum = x;
    for (let k = 1; k < 12; k++) {
      term *= -x2 / k;
      sum += term / (2 * k + 1);
    }
    return sum * 1.1283791670955126; // 2/√π
  }
  const t = 1.0 / (1.0 + 0.5 * a);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = 1.0 - t * Math.exp(-a * a + poly);
  return x < 0 ? -r : r;
}
