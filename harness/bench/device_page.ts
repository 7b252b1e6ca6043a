// Harness: the on-device benchmark page. Self-contained HTML + inline script that loads a bundle with
// the bare WebAssembly API in any browser (phone, board, desktop), runs warm-up + timed runs and a
// per-step profile, shows the figures, offers them as JSON, and posts them back to the server.
export function devicePage(o: { runs: number; warmup: number; title: string }): string {
  const script = `
const RUNS = ${o.runs}, WARMUP = ${o.warmup};
const out = document.getElementById("out"), st = document.getElementById("status");
(async () => {
  try {
    const bytes = await (await fetch("bundle.wasm")).arrayBuffer();
    const { instance, module } = await WebAssembly.instantiate(bytes, {});
    const ex = instance.exports;
    const manifest = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(module, "mbn.manifest")[0]));
    const selftest = ex.mbn_selftest() >>> 0;
    new Float32Array(ex.memory.buffer, ex.mbn_input_ptr(), ex.mbn_input_len()).fill(0.5);
    for (let i = 0; i < WARMUP; i++) ex.mbn_run();
    const t = [];
    for (let i = 0; i < RUNS; i++) { const a = performance.now(); const rc = ex.mbn_run(); t.push(performance.now() - a); if (rc) throw new Error("mbn_run returned " + rc); if (i % 10 === 0) { st.textContent = "run " + i + "/" + RUNS; await new Promise(r => setTimeout(r)); } }
    t.sort((a, b) => a - b);
    const steps = [];
    for (let s = 0; s < ex.mbn_step_count(); s++) { const v = []; for (let r = 0; r < 9; r++) { const a = performance.now(); ex.mbn_run_step(s); v.push(performance.now() - a); } v.sort((a, b) => a - b); steps.push({ step: s, op: manifest.layers[s]?.op, ms: v[4] }); }
    const result = { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, target: manifest.target, selftest,
      median_ms: t[t.length >> 1], p90_ms: t[Math.floor(t.length * 0.9)], min_ms: t[0], runs: RUNS, profile: steps, bops: manifest.totals.bops, memory_bytes: manifest.memory_bytes, date: new Date().toISOString() };
    st.textContent = "done";
    out.innerHTML = "<table><tr><th>median</th><th>p90</th><th>min</th><th>runs</th></tr><tr><td>" + result.median_ms.toFixed(3) + " ms</td><td>" + result.p90_ms.toFixed(3) + " ms</td><td>" + result.min_ms.toFixed(3) + " ms</td><td>" + RUNS + "</td></tr></table>"
      + "<p><a download=\\"mbn-bench.json\\" href=\\"" + URL.createObjectURL(new Blob([JSON.stringify(result, null, 2)], { type: "application/json" })) + "\\">download JSON</a></p><pre id=\\"json\\">" + JSON.stringify(result, null, 2) + "</pre>";
    await fetch("result", { method: "POST", body: JSON.stringify(result) }).catch(() => {});
  } catch (e) { st.textContent = "error: " + e.message; }
})();`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${o.title}</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px}pre{font-size:11px}</style></head>
<body><h1>${o.title}</h1><p id="status">loading…</p><div id="out"></div><script>${script}</script></body></html>`;
}
