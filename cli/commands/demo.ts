// CLI: `mbn demo` (npm start) — placeholder replaced below once the zoo lands.
export async function demoCommand(_o: { model: string; n: string }): Promise<void> {
  throw new Error("demo not yet implemented");
}
