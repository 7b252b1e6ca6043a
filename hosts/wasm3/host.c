/*
 * mbn_wasm3: run an mbn bundle (`mbn compile --target scalar`) in the wasm3 interpreter.
 *
 *   mbn_wasm3 bundle.wasm [--input x.f32] [--output y.f32] [--time] [--stack bytes]
 *       reads float32 samples (little-endian, mbn_input_len() floats per mbn_run) from stdin or
 *       --input, writes them at mbn_input_ptr(), calls mbn_run() and writes the mbn_output_len()
 *       floats at mbn_output_ptr() to stdout or --output. --time prints one JSON line to stderr:
 *       {"runs":n,"ms_total":t,"ms_per_run":t/n,"ms_min":m} (mbn_run calls only, after a warm-up
 *       run of the first sample; all functions are compiled before it).
 *   mbn_wasm3 bundle.wasm --selftest     prints mbn_selftest() as an unsigned decimal (FNV-1a hash of
 *                                        the output on the runtime's fixed input; negative = error)
 *   mbn_wasm3 bundle.wasm --info         prints {"input_len":…,"output_len":…,"memory_bytes":…}
 *
 * Bundles have no imports, so nothing is linked; the host only uses wasm3's public API (wasm3.h).
 * Exit status: 0 ok, 1 error (one line on stderr starting with "mbn_wasm3:").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm3.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "mbn_wasm3 copies float32 to WebAssembly memory as is: little-endian hosts only"
#endif

static const char *bundle_path = "";

static void die(const char *what, const char *why) {
  fprintf(stderr, "mbn_wasm3: %s: %s: %s\n", bundle_path, what, why);
  exit(1);
}

static uint8_t *read_file(FILE *f, size_t *n) {
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) die("read", "out of memory");
  for (;;) {
    if (len == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) die("read", "out of memory");
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  *n = len;
  return buf;
}

static IM3Runtime runtime;

static IM3Function find(const char *name) {
  IM3Function fn;
  M3Result r = m3_FindFunction(&fn, runtime, name);
  if (r) die(name, r);
  return fn;
}

/* Call an exported () -> i32 function. */
static int32_t call_i32(IM3Function fn, const char *name) {
  M3Result r = m3_CallV(fn);
  if (r) {
    M3ErrorInfo info;
    m3_GetErrorInfo(runtime, &info);
    die(name, info.message ? info.message : r);
  }
  int32_t v = 0;
  r = m3_GetResultsV(fn, &v);
  if (r) die(name, r);
  return v;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Pointer to n bytes at wasm address p, checked against the current memory size. */
static uint8_t *mem_at(uint32_t p, uint64_t n, const char *what) {
  uint32_t size = 0;
  uint8_t *mem = m3_GetMemory(runtime, &size, 0);
  if (!mem || (uint64_t)p + n > size) die(what, "outside the bundle's linear memory");
  return mem + p;
}

int main(int argc, char **argv) {
  const char *in_path = NULL, *out_path = NULL;
  int selftest = 0, info = 0, timing = 0;
  uint32_t stack = 64 * 1024;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--selftest")) selftest = 1;
    else if (!strcmp(argv[i], "--info")) info = 1;
    else if (!strcmp(argv[i], "--time")) timing = 1;
    else if (!strcmp(argv[i], "--input") && i + 1 < argc) in_path = argv[++i];
    else if (!strcmp(argv[i], "--output") && i + 1 < argc) out_path = argv[++i];
    else if (!strcmp(argv[i], "--stack") && i + 1 < argc) stack = (uint32_t)strtoul(argv[++i], NULL, 0);
    else if (argv[i][0] != '-' && !*bundle_path) bundle_path = argv[i];
    else {
      fprintf(stderr, "usage: mbn_wasm3 bundle.wasm [--input x.f32] [--output y.f32] [--time] [--stack bytes] | --selftest | --info\n");
      return 1;
    }
  }
  if (!*bundle_path) {
    fprintf(stderr, "usage: mbn_wasm3 bundle.wasm [--input x.f32] [--output y.f32] [--time] [--stack bytes] | --selftest | --info\n");
    return 1;
  }

  FILE *bf = fopen(bundle_path, "rb");
  if (!bf) die("open", "cannot read the file");
  size_t wasm_len;
  uint8_t *wasm = read_file(bf, &wasm_len); /* must outlive the module */
  fclose(bf);

  IM3Environment env = m3_NewEnvironment();
  if (!env) die("wasm3", "m3_NewEnvironment failed");
  runtime = m3_NewRuntime(env, stack, NULL);
  if (!runtime) die("wasm3", "m3_NewRuntime failed");
  IM3Module module;
  M3Result r = m3_ParseModule(env, &module, wasm, (uint32_t)wasm_len);
  if (r) die("parse", r);
  r = m3_LoadModule(runtime, module);
  if (r) die("load", r);
  r = m3_CompileModule(module);
  if (r) die("compile", r);
  r = m3_RunStart(module);
  if (r) die("start", r);

  IM3Function f_run = find("mbn_run"), f_in = find("mbn_input_ptr"), f_inlen = find("mbn_input_len");
  IM3Function f_out = find("mbn_output_ptr"), f_outlen = find("mbn_output_len");

  if (selftest) {
    printf("%u\n", (uint32_t)call_i32(find("mbn_selftest"), "mbn_selftest"));
    return 0;
  }
  const uint32_t in_len = (uint32_t)call_i32(f_inlen, "mbn_input_len");
  const uint32_t out_len = (uint32_t)call_i32(f_outlen, "mbn_output_len");
  if (info) {
    uint32_t size = 0;
    m3_GetMemory(runtime, &size, 0);
    printf("{\"input_len\":%u,\"output_len\":%u,\"memory_bytes\":%u}\n", in_len, out_len, size);
    return 0;
  }

  FILE *fi = stdin, *fo = stdout;
  if (in_path && !(fi = fopen(in_path, "rb"))) die(in_path, "cannot read the input file");
  if (out_path && !(fo = fopen(out_path, "wb"))) die(out_path, "cannot write the output file");
  size_t x_len;
  uint8_t *x = read_file(fi, &x_len);
  const size_t sample = (size_t)in_len * 4;
  if (sample == 0 || x_len % sample) {
    char why[160];
    snprintf(why, sizeof why, "%zu input bytes are not a multiple of one run's %u float32 (%zu bytes)", x_len, in_len, sample);
    die("input", why);
  }
  const size_t n = x_len / sample;
  double total = 0, best = 1e300;
  for (size_t s = 0; s < n; s++) {
    for (int warm = (timing && s == 0); warm >= 0; warm--) {
      memcpy(mem_at((uint32_t)call_i32(f_in, "mbn_input_ptr"), sample, "input"), x + s * sample, sample);
      const double t0 = now_ms();
      const int32_t rc = call_i32(f_run, "mbn_run");
      const double dt = now_ms() - t0;
      if (rc) {
        char why[64];
        snprintf(why, sizeof why, "returned error code %d", rc);
        die("mbn_run", why);
      }
      if (!warm) {
        total += dt;
        if (dt < best) best = dt;
      }
    }
    const uint8_t *y = mem_at((uint32_t)call_i32(f_out, "mbn_output_ptr"), (uint64_t)out_len * 4, "output");
    if (fwrite(y, 4, out_len, fo) != out_len) die("output", "write failed");
  }
  if (fflush(fo)) die("output", "write failed");
  if (timing)
    fprintf(stderr, "{\"runs\":%zu,\"ms_total\":%.4f,\"ms_per_run\":%.4f,\"ms_min\":%.4f}\n", n, total, n ? total / n : 0.0, n ? best : 0.0);
  return 0;
}
