;; Lane-wise addition / subtraction of uint32 words mod 2^32 over linear memory (WebAssembly SIMD):
;; add(acc, src, n): acc[i] += src[i]; sub(acc, src, n): acc[i] -= src[i], for n bytes (n a multiple of 64).
;; Not cryptography: the mask PRG stays a library primitive; this only sums its words.
;; Compiled bytes: word-add-wasm.ts (word-add.test.ts rebuilds them from this file with wabt).
(module
  (memory (export "memory") 1)
  (func (export "add") (param $acc i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $acc) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (v128.store offset=0 (local.get $acc)
          (i32x4.add (v128.load offset=0 (local.get $acc)) (v128.load offset=0 (local.get $src))))
        (v128.store offset=16 (local.get $acc)
          (i32x4.add (v128.load offset=16 (local.get $acc)) (v128.load offset=16 (local.get $src))))
        (v128.store offset=32 (local.get $acc)
          (i32x4.add (v128.load offset=32 (local.get $acc)) (v128.load offset=32 (local.get $src))))
        (v128.store offset=48 (local.get $acc)
          (i32x4.add (v128.load offset=48 (local.get $acc)) (v128.load offset=48 (local.get $src))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (br $next))))
  (func (export "sub") (param $acc i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $acc) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (v128.store offset=0 (local.get $acc)
          (i32x4.sub (v128.load offset=0 (local.get $acc)) (v128.load offset=0 (local.get $src))))
        (v128.store offset=16 (local.get $acc)
          (i32x4.sub (v128.load offset=16 (local.get $acc)) (v128.load offset=16 (local.get $src))))
        (v128.store offset=32 (local.get $acc)
          (i32x4.sub (v128.load offset=32 (local.get $acc)) (v128.load offset=32 (local.get $src))))
        (v128.store offset=48 (local.get $acc)
          (i32x4.sub (v128.load offset=48 (local.get $acc)) (v128.load offset=48 (local.get $src))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (br $next)))))
