// Golden IR dumps per pass (`--dump-after lower|fuse`): the plan text of four fixtures is compared
// with the files under test/golden/. After an intended change, review the diff and run `npx vitest -u`.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";

for (const name of ["xnornet_nonsquare", "qonnx_mbn", "resnet20_cifar_mbn3x3", "float_fallback"]) {
  describe(`golden plan: ${name}`, () => {
    const file = `test/fixtures/${name}.onnx`;
    const dumps: Record<string, string> = {};
    compile(readFileSync(new URL(`../fixtures/${name}.onnx`, import.meta.url)), { file, dumpAfter: (pass, text) => (dumps[pass] = text) });
    for (const pass of ["lower", "fuse"])
      it(`after ${pass}`, async () => {
        await expect(dumps[pass]).toMatchFileSnapshot(`../golden/${name}.${pass}.txt`);
      });
  });
}
