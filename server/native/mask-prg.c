/*
 * Native sum of mask PRG expansions for the server's unmask (N-API, no other dependencies).
 *
 *   addMasks(acc: Uint32Array, seeds: Uint8Array (32·m bytes), signs: Int8Array (m, each ±1))
 *   acc[i] += Σ_j signs[j] · PRG(seeds[j])[i]   (mod 2^32)
 *
 * PRG(seed) is the mask PRG of shared/secagg/prg.ts: the AES-256-CTR keystream under the seed,
 * counter block 0, read as little-endian words. AES itself is OpenSSL's (the copy node links,
 * through its exported EVP API), so no primitive is written here. Why native: node's
 * cipher.update allocates and zero-fills a fresh buffer per call and the words must then be copied
 * again before they are added, which cost more than the AES itself. Here the keystream goes into a
 * small scratch buffer and the accumulator is walked in blocks that stay in cache, every seed's
 * keystream added to a block before the next one, so a batch of m expansions reads the
 * accumulator once instead of m times.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the keystream is read as little-endian words"
#endif

#define ABI_VERSION 1
/* Accumulator words per block (64 KB: in L2) and keystream words per cipher call (16 KB: in L1). */
#define BLOCK_WORDS 16384
#define CHUNK_WORDS 4096
#define MAX_SEEDS 65536

static const unsigned char ZERO_IV[16] = {0};
static const uint32_t ZEROS[CHUNK_WORDS] = {0};

static napi_value fail(napi_env env, const char* msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  bool is = false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok) return 0;
  return t == want;
}

static napi_value add_masks(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3)
    return fail(env, "addMasks(acc, seeds, signs): expected 3 arguments");
  uint32_t* acc;
  size_t n, seed_bytes, m;
  unsigned char* seeds;
  int8_t* signs;
  if (!typed_array(env, argv[0], napi_uint32_array, (void**)&acc, &n))
    return fail(env, "addMasks: acc must be a Uint32Array");
  if (!typed_array(env, argv[1], napi_uint8_array, (void**)&seeds, &seed_bytes) || seed_bytes % 32 != 0)
    return fail(env, "addMasks: seeds must be a Uint8Array of 32-byte seeds");
  if (!typed_array(env, argv[2], napi_int8_array, (void**)&signs, &m) || m != seed_bytes / 32)
    return fail(env, "addMasks: signs must be an Int8Array with one sign per seed");
  if (m > MAX_SEEDS) return fail(env, "addMasks: too many seeds in one call");
  for (size_t j = 0; j < m; j++)
    if (signs[j] != 1 && signs[j] != -1) return fail(env, "addMasks: every sign must be 1 or -1");
  if (m == 0 || n == 0) return NULL;

  /* One context per seed keeps its key schedule and its counter from block to block. */
  EVP_CIPHER_CTX** ctx = calloc(m, sizeof *ctx);
  uint32_t* ks = malloc(CHUNK_WORDS * sizeof *ks);
  const char* err = NULL;
  if (!ctx || !ks) err = "addMasks: out of memory";
  for (size_t j = 0; !err && j < m; j++) {
    ctx[j] = EVP_CIPHER_CTX_new();
    if (!ctx[j] || EVP_EncryptInit_ex(ctx[j], EVP_aes_256_ctr(), NULL, seeds + 32 * j, ZERO_IV) != 1)
      err = "addMasks: AES-256-CTR init failed";
  }
  for (size_t b = 0; !err && b < n; b += BLOCK_WORDS) {
    size_t block_end = b + BLOCK_WORDS < n ? b + BLOCK_WORDS : n;
    for (size_t j = 0; !err && j < m; j++) {
      for (size_t c = b; c < block_end; c += CHUNK_WORDS) {
        size_t w = block_end - c < CHUNK_WORDS ? block_end - c : CHUNK_WORDS;
        int outl = 0;
        if (EVP_EncryptUpdate(ctx[j], (unsigned char*)ks, &outl, (const unsigned char*)ZEROS, (int)(w * 4)) != 1 ||
            outl != (int)(w * 4)) {
          err = "addMasks: AES-256-CTR failed";
          break;
        }
        uint32_t* a = acc + c;
        if (signs[j] == 1)
          for (size_t i = 0; i < w; i++) a[i] += ks[i];
        else
          for (size_t i = 0; i < w; i++) a[i] -= ks[i];
      }
    }
  }
  if (ctx)
    for (size_t j = 0; j < m; j++) EVP_CIPHER_CTX_free(ctx[j]);
  free(ctx);
  free(ks);
  return err ? fail(env, err) : NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn, abi;
  if (napi_create_function(env, "addMasks", NAPI_AUTO_LENGTH, add_masks, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "addMasks", fn) != napi_ok) return NULL;
  if (napi_create_uint32(env, ABI_VERSION, &abi) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "abi", abi) != napi_ok) return NULL;
  return exports;
}
