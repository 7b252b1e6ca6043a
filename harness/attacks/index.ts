// Harness attacks: the registry (a table, not an if-chain).
import type { Attack } from "./types.ts";
import { fgsm, pgd } from "./pgd.ts";
import { square } from "./square.ts";
import { apgdCe, apgdT } from "./apgd.ts";
import { fabT } from "./fab.ts";

export const ATTACKS: Record<string, Attack> = { fgsm, pgd, square, "apgd-ce": apgdCe, "apgd-t": apgdT, "fab-t": fabT };
/** Ensembles: sequences of ATTACKS run by autoattack.ts (not per batch; evaluate with evaluateAutoAttack). */
export const ENSEMBLES = ["autoattack"] as const;
export type { Attack, AttackParams } from "./types.ts";
