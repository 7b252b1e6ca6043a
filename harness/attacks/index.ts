// Harness attacks: the registry (a table, not an if-chain).
import type { Attack } from "./types.ts";
import { fgsm, pgd } from "./pgd.ts";
import { square } from "./square.ts";

export const ATTACKS: Record<string, Attack> = { fgsm, pgd, square };
export type { Attack, AttackParams } from "./types.ts";
