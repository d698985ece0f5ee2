;; SIMD loops over the wasm backend's own memory, for the element-wise and per-channel work around the
;; convolutions of a training step: passes that tfjs-backend-wasm runs as several scalar kernels, each
;; one more trip over the data. Every pointer is a byte offset into that memory (a tensor's
;; getMemoryOffset); the per-channel loops (batch norm) take channels-last data of `rows` rows of C values,
;; C a multiple of 4; the others say their layout. Nothing here allocates or keeps state: callers pass
;; every buffer, accumulators included.
;;
;; Built by scripts/build-simd.mjs into kernels-wasm.ts (a shared-memory variant for the threaded build
;; and one importing a plain memory, the import below rewritten).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; acc[c] += Σ_r x[r, c] and acc[C + c] += Σ_r x[r, c]² (acc: 2C doubles). Rows in blocks of ~8 KB:
  ;; per four channels, the block's sums in double registers down its rows, then added to acc once
  ;; (adding into acc row by row chained every add through memory).
  (func (export "chan_moments") (param $x i32) (param $rows i32) (param $C i32) (param $acc i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $a i32) (local $q i32) (local $p i32)
    (local $stop i32) (local $blockBytes i32) (local $v v128) (local $lo v128) (local $hi v128) (local $s0 v128) (local $s1 v128)
    (local $q0 v128) (local $q1 v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    ;; rows of ~8 KB an operand a block (in L1 across the block's passes down its columns), at least one
    (local.set $blockBytes (i32.mul (local.get $rowBytes)
      (select (i32.div_u (i32.const 8192) (local.get $rowBytes)) (i32.const 1)
        (i32.gt_u (i32.div_u (i32.const 8192) (local.get $rowBytes)) (i32.const 0)))))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $stop (i32.add (local.get $x) (local.get $blockBytes)))
        (local.set $stop (select (local.get $stop) (local.get $end) (i32.lt_u (local.get $stop) (local.get $end))))
        (local.set $c (i32.const 0))
        (local.set $a (local.get $acc))
        (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $C) (i32.const 3))))
        (loop $col
          (local.set $s0 (v128.const i64x2 0 0))
          (local.set $s1 (v128.const i64x2 0 0))
          (local.set $q0 (v128.const i64x2 0 0))
          (local.set $q1 (v128.const i64x2 0 0))
          (local.set $p (i32.add (local.get $x) (local.get $c)))
          (loop $row
            (local.set $v (v128.load align=4 (local.get $p)))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
            (local.set $hi (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $s0 (f64x2.add (local.get $s0) (local.get $lo)))
            (local.set $s1 (f64x2.add (local.get $s1) (local.get $hi)))
            (local.set $q0 (f64x2.add (local.get $q0) (f64x2.mul (local.get $lo) (local.get $lo))))
            (local.set $q1 (f64x2.add (local.get $q1) (f64x2.mul (local.get $hi) (local.get $hi))))
            (br_if $row (i32.lt_u (local.tee $p (i32.add (local.get $p) (local.get $rowBytes)))
              (i32.add (local.get $stop) (local.get $c)))))
          (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (local.get $s0)))
          (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a)) (local.get $s1)))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (local.get $q0)))
          (v128.store offset=16 (local.get $q) (f64x2.add (v128.load offset=16 (local.get $q)) (local.get $q1)))
          (local.set $a (i32.add (local.get $a) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 16))) (local.get $rowBytes))))
        (local.set $x (local.get $stop))
        (br $block))))

  ;; y[r, c] = (x[r, c] − mean[c])·scale[c] + shift[c], then max(·, 0) when relu ≠ 0.
  (func (export "bn_apply") (param $x i32) (param $rows i32) (param $C i32) (param $mean i32)
    (param $scale i32) (param $shift i32) (param $relu i32) (param $y i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $floor v128)
    (local.set $floor (select (result v128) (v128.const f32x4 0 0 0 0) (f32x4.splat (f32.const -inf))
      (local.get $relu)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $col
          (v128.store align=4 (i32.add (local.get $y) (local.get $c))
            (f32x4.max
              (f32x4.add
                (f32x4.mul
                  (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (local.get $c)))
                    (v128.load align=4 (i32.add (local.get $mean) (local.get $c))))
                  (v128.load align=4 (i32.add (local.get $scale) (local.get $c))))
                (v128.load align=4 (i32.add (local.get $shift) (local.get $c))))
              (local.get $floor)))
          (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 16))) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (br $row))))

  ;; With g = dy, or dy where y > 0 and 0 elsewhere when relu ≠ 0 (the gradient through a ReLU whose
  ;; output is y): acc[c] += Σ_r g[r, c] and acc[C + c] += Σ_r g[r, c]·(x[r, c] − mean[c]) (2C doubles).
  (func (export "bn_grad_sums") (param $dy i32) (param $y i32) (param $x i32) (param $rows i32)
    (param $C i32) (param $mean i32) (param $relu i32) (param $acc i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $a i32) (local $q i32)
    (local $pass v128) (local $g v128) (local $gx v128)
    (local.set $pass (select (result v128) (v128.const i32x4 0 0 0 0) (v128.const i32x4 -1 -1 -1 -1)
      (local.get $relu)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (local.set $a (local.get $acc))
        (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $C) (i32.const 3))))
        (loop $col
          (local.set $g (v128.and (v128.load align=4 (i32.add (local.get $dy) (local.get $c)))
            (v128.or (local.get $pass)
              (f32x4.gt (v128.load align=4 (i32.add (local.get $y) (local.get $c))) (v128.const f32x4 0 0 0 0)))))
          (local.set $gx (f32x4.mul (local.get $g)
            (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (local.get $c)))
              (v128.load align=4 (i32.add (local.get $mean) (local.get $c))))))
          (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $g))))
          (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $gx))))
          (v128.store offset=16 (local.get $q) (f64x2.add (v128.load offset=16 (local.get $q))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gx) (local.get $gx)))))
          (local.set $a (i32.add (local.get $a) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 16))) (local.get $rowBytes))))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (br $row))))

  ;; dx[r, c] = a[c]·g[r, c] + b[c]·(x[r, c] − mean[c]) + d[c], g as in bn_grad_sums.
  (func (export "bn_grad_apply") (param $dy i32) (param $y i32) (param $x i32) (param $rows i32)
    (param $C i32) (param $mean i32) (param $a i32) (param $b i32) (param $d i32) (param $relu i32)
    (param $dx i32)
    (local $rowBytes i32) (local $end i32) (local $c i32) (local $pass v128) (local $g v128)
    (local.set $pass (select (result v128) (v128.const i32x4 0 0 0 0) (v128.const i32x4 -1 -1 -1 -1)
      (local.get $relu)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $col
          (local.set $g (v128.and (v128.load align=4 (i32.add (local.get $dy) (local.get $c)))
            (v128.or (local.get $pass)
              (f32x4.gt (v128.load align=4 (i32.add (local.get $y) (local.get $c))) (v128.const f32x4 0 0 0 0)))))
          (v128.store align=4 (i32.add (local.get $dx) (local.get $c))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $g) (v128.load align=4 (i32.add (local.get $a) (local.get $c))))
                (f32x4.mul
                  (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (local.get $c)))
                    (v128.load align=4 (i32.add (local.get $mean) (local.get $c))))
                  (v128.load align=4 (i32.add (local.get $b) (local.get $c)))))
              (v128.load align=4 (i32.add (local.get $d) (local.get $c)))))
          (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 16))) (local.get $rowBytes))))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
        (br $row))))

  ;; A strided copy of 4-byte elements over a 4-deep loop nest (i0 outermost), every d ≥ 1:
  ;; out[i0·o0 + i1·o1 + i2·o2 + i3·o3] = x[i0·s0 + i1·s1 + i2·s2 + i3·s3], strides in elements. A transpose
  ;; (the caller orders the loops); innermost runs contiguous on both sides move 16 bytes at a time.
  (func (export "copy4") (param $x i32) (param $out i32) (param $d0 i32) (param $d1 i32) (param $d2 i32)
    (param $d3 i32) (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32) (param $o0 i32)
    (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (local $i0 i32) (local $i1 i32) (local $i2 i32) (local $b0 i32) (local $b1 i32) (local $p i32)
    (local $q0 i32) (local $q1 i32) (local $q i32) (local $k i32) (local $k4 i32)
    (local.set $s0 (i32.shl (local.get $s0) (i32.const 2)))
    (local.set $s1 (i32.shl (local.get $s1) (i32.const 2)))
    (local.set $s2 (i32.shl (local.get $s2) (i32.const 2)))
    (local.set $s3 (i32.shl (local.get $s3) (i32.const 2)))
    (local.set $o0 (i32.shl (local.get $o0) (i32.const 2)))
    (local.set $o1 (i32.shl (local.get $o1) (i32.const 2)))
    (local.set $o2 (i32.shl (local.get $o2) (i32.const 2)))
    (local.set $o3 (i32.shl (local.get $o3) (i32.const 2)))
    (local.set $k4 (i32.and (local.get $d3) (i32.const -4)))
    (local.set $i0 (i32.const 0))
    (loop $l0
      (local.set $b0 (i32.add (local.get $x) (i32.mul (local.get $i0) (local.get $s0))))
      (local.set $q0 (i32.add (local.get $out) (i32.mul (local.get $i0) (local.get $o0))))
      (local.set $i1 (i32.const 0))
      (loop $l1
        (local.set $b1 (i32.add (local.get $b0) (i32.mul (local.get $i1) (local.get $s1))))
        (local.set $q1 (i32.add (local.get $q0) (i32.mul (local.get $i1) (local.get $o1))))
        (local.set $i2 (i32.const 0))
        (loop $l2
          (local.set $p (i32.add (local.get $b1) (i32.mul (local.get $i2) (local.get $s2))))
          (local.set $q (i32.add (local.get $q1) (i32.mul (local.get $i2) (local.get $o2))))
          (if (i32.and (i32.eq (local.get $s3) (i32.const 4)) (i32.eq (local.get $o3) (i32.const 4)))
            (then
              ;; a contiguous run: 16 bytes at a time, then the rest (memory.copy's call costs more on
              ;; runs this short)
              (local.set $k (i32.const 0))
              (block $vdone
                (loop $vec
                  (br_if $vdone (i32.ge_u (local.get $k) (local.get $k4)))
                  (v128.store align=4 (local.get $q) (v128.load align=4 (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (i32.const 16)))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (local.set $k (i32.add (local.get $k) (i32.const 4)))
                  (br $vec)))
              (block $sdone
                (loop $one
                  (br_if $sdone (i32.ge_u (local.get $k) (local.get $d3)))
                  (i32.store (local.get $q) (i32.load (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (i32.const 4)))
                  (local.set $q (i32.add (local.get $q) (i32.const 4)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $one))))
            (else
              (local.set $k (i32.const 0))
              ;; four at a time, then the rest
              (block $done4
                (loop $four
                  (br_if $done4 (i32.ge_u (local.get $k) (local.get $k4)))
                  (i32.store (local.get $q) (i32.load (local.get $p)))
                  (i32.store (i32.add (local.get $q) (local.get $o3)) (i32.load (i32.add (local.get $p) (local.get $s3))))
                  (local.set $p (i32.add (local.get $p) (i32.shl (local.get $s3) (i32.const 1))))
                  (local.set $q (i32.add (local.get $q) (i32.shl (local.get $o3) (i32.const 1))))
                  (i32.store (local.get $q) (i32.load (local.get $p)))
                  (i32.store (i32.add (local.get $q) (local.get $o3)) (i32.load (i32.add (local.get $p) (local.get $s3))))
                  (local.set $p (i32.add (local.get $p) (i32.shl (local.get $s3) (i32.const 1))))
                  (local.set $q (i32.add (local.get $q) (i32.shl (local.get $o3) (i32.const 1))))
                  (local.set $k (i32.add (local.get $k) (i32.const 4)))
                  (br $four)))
              (block $done
                (loop $one
                  (br_if $done (i32.ge_u (local.get $k) (local.get $d3)))
                  (i32.store (local.get $q) (i32.load (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (local.get $s3)))
                  (local.set $q (i32.add (local.get $q) (local.get $o3)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $one)))))
          (br_if $l2 (i32.lt_u (local.tee $i2 (i32.add (local.get $i2) (i32.const 1))) (local.get $d2))))
        (br_if $l1 (i32.lt_u (local.tee $i1 (i32.add (local.get $i1) (i32.const 1))) (local.get $d1))))
      (br_if $l0 (i32.lt_u (local.tee $i0 (i32.add (local.get $i0) (i32.const 1))) (local.get $d0)))))

;; A transpose's strided copy whose inner two loops swap contiguity — x contiguous along i2, out along i3
  ;; (s2 = o3 = 1): out[i0·o0 + i1·o1 + i2·o2 + i3] = x[i0·s0 + i1·s1 + i2 + i3·s3], in 4×4 tiles (four
  ;; loads along i2, a shuffle transpose, four stores along i3), the edges one element at a time; groups of
  ;; four i2 outermost, so that the writes run along four output rows at a time. (copy4 moves a transposed
  ;; element 4 bytes at a time.)
  (func (export "transpose_tiles") (param $x i32) (param $out i32) (param $d0 i32) (param $d1 i32)
    (param $d2 i32) (param $d3 i32) (param $s0 i32) (param $s1 i32) (param $s3 i32) (param $o0 i32)
    (param $o1 i32) (param $o2 i32)
    (local $i0 i32) (local $i1 i32) (local $a i32) (local $b i32) (local $a4 i32) (local $b4 i32)
    (local $p i32) (local $q i32) (local $src i32) (local $dst i32) (local $j i32) (local $rows i32)
    (local $b0 i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128)
    (local $t2 v128) (local $t3 v128)
    (local.set $s0 (i32.shl (local.get $s0) (i32.const 2)))
    (local.set $s1 (i32.shl (local.get $s1) (i32.const 2)))
    (local.set $s3 (i32.shl (local.get $s3) (i32.const 2)))
    (local.set $o0 (i32.shl (local.get $o0) (i32.const 2)))
    (local.set $o1 (i32.shl (local.get $o1) (i32.const 2)))
    (local.set $o2 (i32.shl (local.get $o2) (i32.const 2)))
    (local.set $a4 (i32.and (local.get $d2) (i32.const -4)))
    (local.set $b4 (i32.and (local.get $d3) (i32.const -4)))
    (local.set $a (i32.const 0))
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.ge_u (local.get $a) (local.get $d2)))
        ;; rows in this group: 4, or the 1–3 past the last whole group (then no tiles)
        (local.set $rows (select (i32.const 4) (i32.sub (local.get $d2) (local.get $a))
          (i32.lt_u (local.get $a) (local.get $a4))))
        (local.set $i0 (i32.const 0))
        (loop $l0
          (local.set $i1 (i32.const 0))
          (loop $l1
            (local.set $p (i32.add (i32.add (i32.add (local.get $x) (i32.mul (local.get $i0) (local.get $s0)))
              (i32.mul (local.get $i1) (local.get $s1))) (i32.shl (local.get $a) (i32.const 2))))
            (local.set $q (i32.add (i32.add (i32.add (local.get $out) (i32.mul (local.get $i0) (local.get $o0)))
              (i32.mul (local.get $i1) (local.get $o1))) (i32.mul (local.get $a) (local.get $o2))))
            (local.set $b (i32.const 0))
            (if (i32.eq (local.get $rows) (i32.const 4))
              (then
                (block $tilesDone
                  (loop $tiles
                    (br_if $tilesDone (i32.ge_u (local.get $b) (local.get $b4)))
                    (local.set $src (i32.add (local.get $p) (i32.mul (local.get $b) (local.get $s3))))
                    (local.set $v0 (v128.load align=4 (local.get $src)))
                    (local.set $v1 (v128.load align=4 (i32.add (local.get $src) (local.get $s3))))
                    (local.set $v2 (v128.load align=4 (i32.add (local.get $src) (i32.shl (local.get $s3) (i32.const 1)))))
                    (local.set $v3 (v128.load align=4 (i32.add (local.get $src)
                      (i32.mul (local.get $s3) (i32.const 3)))))
                    ;; (a0 b0 a1 b1) (a2 b2 a3 b3) (c0 d0 c1 d1) (c2 d2 c3 d3), then the columns
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                    (local.set $dst (i32.add (local.get $q) (i32.shl (local.get $b) (i32.const 2))))
                    (v128.store align=4 (local.get $dst)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store align=4 (i32.add (local.get $dst) (local.get $o2))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store align=4 (i32.add (local.get $dst) (i32.shl (local.get $o2) (i32.const 1)))
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store align=4 (i32.add (local.get $dst) (i32.mul (local.get $o2) (i32.const 3)))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $b (i32.add (local.get $b) (i32.const 4)))
                    (br $tiles)))))
            ;; what the tiles left: the columns from b0 on, of each of the group's rows
            (local.set $b0 (local.get $b))
            (local.set $j (i32.const 0))
            (block $edgeDone
              (loop $edge
                (br_if $edgeDone (i32.ge_u (local.get $j) (local.get $rows)))
                (local.set $src (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $dst (i32.add (local.get $q) (i32.mul (local.get $j) (local.get $o2))))
                (local.set $b (local.get $b0))
                (block $colsDone
                  (loop $cols
                    (br_if $colsDone (i32.ge_u (local.get $b) (local.get $d3)))
                    (i32.store (i32.add (local.get $dst) (i32.shl (local.get $b) (i32.const 2)))
                      (i32.load (i32.add (local.get $src) (i32.mul (local.get $b) (local.get $s3)))))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $cols)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $edge)))
            (br_if $l1 (i32.lt_u (local.tee $i1 (i32.add (local.get $i1) (i32.const 1))) (local.get $d1))))
          (br_if $l0 (i32.lt_u (local.tee $i0 (i32.add (local.get $i0) (i32.const 1))) (local.get $d0))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $groups))))

  ;; out[i] = e^x[i] for n ≥ 4 values: Cephes' expf (range reduction by ln 2 in two parts, degree-6
  ;; polynomial, ≤ 2 ulp on [−87.3, 88.7]), +∞ above, 0 below (float32's denormals are not produced), NaN
  ;; stays NaN. Eight at a time; the last fours overlap the ones before (so never in place). (Inline: V8
  ;; does not inline a v128 helper, and the call tripled the time.)
  (func (export "exp_f32") (param $src i32) (param $count i32) (param $dst i32)
    (local $i i32) (local $last i32)
    (local $v0 v128) (local $x0 v128) (local $n0 v128) (local $r0 v128) (local $p0 v128) (local $k0 v128) (local $a0 v128) (local $at0 i32) (local $v1 v128) (local $x1 v128) (local $n1 v128) (local $r1 v128) (local $p1 v128) (local $k1 v128) (local $a1 v128) (local $at1 i32)
    (local.set $last (i32.shl (i32.sub (local.get $count) (i32.const 4)) (i32.const 2)))
    (local.set $i (i32.const 0))
    ;; two independent fours an iteration (the chain of one is ~25 dependent operations; two in flight
    ;; keep the vector units busier); positions past the last four are clamped to it
    (loop $eight
      (local.set $at0 (select (local.get $i) (local.get $last) (i32.lt_u (local.get $i) (local.get $last))))
      (local.set $v0 (v128.load align=4 (i32.add (local.get $src) (local.get $at0))))
      (local.set $x0 (f32x4.pmin (f32x4.pmax (local.get $v0) (f32x4.splat (f32.const -87.33654)))
        (f32x4.splat (f32.const 88.72283))))
      (local.set $k0 (f32x4.add (f32x4.mul (local.get $x0) (f32x4.splat (f32.const 1.44269504088896341)))
        (f32x4.splat (f32.const 12582912))))
      (local.set $n0 (f32x4.sub (local.get $k0) (f32x4.splat (f32.const 12582912))))
      (local.set $r0 (f32x4.sub (f32x4.sub (local.get $x0)
        (f32x4.mul (local.get $n0) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n0) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $p0 (f32x4.splat (f32.const 1.9875691500E-4)))
      (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $r0)) (f32x4.splat (f32.const 1.3981999507E-3))))
      (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $r0)) (f32x4.splat (f32.const 8.3334519073E-3))))
      (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $r0)) (f32x4.splat (f32.const 4.1665795894E-2))))
      (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $r0)) (f32x4.splat (f32.const 1.6666665459E-1))))
      (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $r0)) (f32x4.splat (f32.const 5.0000001201E-1))))
      (local.set $p0 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p0) (local.get $r0)) (local.get $r0))
        (local.get $r0)) (f32x4.splat (f32.const 1))))
      (local.set $k0 (i32x4.sub (local.get $k0) (i32x4.splat (i32.const 0x4B400000))))
      (local.set $a0 (i32x4.shr_s (local.get $k0) (i32.const 1)))
      (local.set $p0 (f32x4.mul (f32x4.mul (local.get $p0)
        (i32x4.shl (i32x4.add (local.get $a0) (i32x4.splat (i32.const 127))) (i32.const 23)))
        (i32x4.shl (i32x4.add (i32x4.sub (local.get $k0) (local.get $a0)) (i32x4.splat (i32.const 127)))
          (i32.const 23))))
      (local.set $p0 (v128.bitselect (f32x4.splat (f32.const inf)) (local.get $p0)
        (f32x4.gt (local.get $v0) (f32x4.splat (f32.const 88.72283)))))
      (local.set $at1 (select (i32.add (local.get $i) (i32.const 16)) (local.get $last) (i32.lt_u (i32.add (local.get $i) (i32.const 16)) (local.get $last))))
      (local.set $v1 (v128.load align=4 (i32.add (local.get $src) (local.get $at1))))
      (local.set $x1 (f32x4.pmin (f32x4.pmax (local.get $v1) (f32x4.splat (f32.const -87.33654)))
        (f32x4.splat (f32.const 88.72283))))
      (local.set $k1 (f32x4.add (f32x4.mul (local.get $x1) (f32x4.splat (f32.const 1.44269504088896341)))
        (f32x4.splat (f32.const 12582912))))
      (local.set $n1 (f32x4.sub (local.get $k1) (f32x4.splat (f32.const 12582912))))
      (local.set $r1 (f32x4.sub (f32x4.sub (local.get $x1)
        (f32x4.mul (local.get $n1) (f32x4.splat (f32.const 0.693359375))))
        (f32x4.mul (local.get $n1) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $p1 (f32x4.splat (f32.const 1.9875691500E-4)))
      (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $r1)) (f32x4.splat (f32.const 1.3981999507E-3))))
      (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $r1)) (f32x4.splat (f32.const 8.3334519073E-3))))
      (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $r1)) (f32x4.splat (f32.const 4.1665795894E-2))))
      (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $r1)) (f32x4.splat (f32.const 1.6666665459E-1))))
      (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $r1)) (f32x4.splat (f32.const 5.0000001201E-1))))
      (local.set $p1 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p1) (local.get $r1)) (local.get $r1))
        (local.get $r1)) (f32x4.splat (f32.const 1))))
      (local.set $k1 (i32x4.sub (local.get $k1) (i32x4.splat (i32.const 0x4B400000))))
      (local.set $a1 (i32x4.shr_s (local.get $k1) (i32.const 1)))
      (local.set $p1 (f32x4.mul (f32x4.mul (local.get $p1)
        (i32x4.shl (i32x4.add (local.get $a1) (i32x4.splat (i32.const 127))) (i32.const 23)))
        (i32x4.shl (i32x4.add (i32x4.sub (local.get $k1) (local.get $a1)) (i32x4.splat (i32.const 127)))
          (i32.const 23))))
      (local.set $p1 (v128.bitselect (f32x4.splat (f32.const inf)) (local.get $p1)
        (f32x4.gt (local.get $v1) (f32x4.splat (f32.const 88.72283)))))
      (v128.store align=4 (i32.add (local.get $dst) (local.get $at0))
        (v128.andnot (local.get $p0) (f32x4.lt (local.get $v0) (f32x4.splat (f32.const -87.33654)))))
      (v128.store align=4 (i32.add (local.get $dst) (local.get $at1))
        (v128.andnot (local.get $p1) (f32x4.lt (local.get $v1) (f32x4.splat (f32.const -87.33654)))))
      (br_if $eight (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 32)))
        (i32.add (local.get $last) (i32.const 16))))))

  ;; The labelled rows' L1 sums: sums[0] += Σ_b m[b]·Σ_j |f[b, j] − y[b, j]|, sums[1] += Σ_b m[b] (doubles),
  ;; over `rows` rows of k values.
  (func (export "masked_l1_sums") (param $f i32) (param $y i32) (param $m i32) (param $rows i32) (param $k i32)
    (param $sums i32)
    (local $end i32) (local $j i32) (local $w f32) (local $row f32) (local $total f64) (local $count f64)
    (local $vw v128) (local $vc v128) (local $t0 v128) (local $t1 v128) (local $c0 v128) (local $c1 v128)
    (local.set $end (i32.add (local.get $m) (i32.shl (local.get $rows) (i32.const 2))))
    ;; k = 1: four rows a vector; k = 2: two (the mask pair spread over their four values). Masked-off
    ;; values count 0 whatever they hold, as in the row loop below, which takes the rest.
    (if (i32.le_u (local.get $k) (i32.const 2))
      (then
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.gt_u (i32.add (local.get $m) (i32.shl (i32.const 8) (i32.eq (local.get $k) (i32.const 1))))
              (local.get $end)))
            (if (i32.eq (local.get $k) (i32.const 1))
              (then
                (local.set $vw (v128.load align=4 (local.get $m)))
                (local.set $c0 (f64x2.add (local.get $c0) (f64x2.promote_low_f32x4 (local.get $vw))))
                (local.set $c1 (f64x2.add (local.get $c1) (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vw) (local.get $vw)))))
                (local.set $m (i32.add (local.get $m) (i32.const 16))))
              (else
                (local.set $vw (v128.load64_zero align=4 (local.get $m)))
                (local.set $c0 (f64x2.add (local.get $c0) (f64x2.promote_low_f32x4 (local.get $vw))))
                (local.set $vw (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $vw) (local.get $vw)))
                (local.set $m (i32.add (local.get $m) (i32.const 8)))))
            (local.set $vc (v128.and
              (f32x4.mul (local.get $vw) (f32x4.abs (f32x4.sub (v128.load align=4 (local.get $f))
                (v128.load align=4 (local.get $y)))))
              (f32x4.ne (local.get $vw) (v128.const f32x4 0 0 0 0))))
            (local.set $t0 (f64x2.add (local.get $t0) (f64x2.promote_low_f32x4 (local.get $vc))))
            (local.set $t1 (f64x2.add (local.get $t1) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vc) (local.get $vc)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (br $vec)))
        (local.set $t0 (f64x2.add (local.get $t0) (local.get $t1)))
        (local.set $c0 (f64x2.add (local.get $c0) (local.get $c1)))
        (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $t0)) (f64x2.extract_lane 1 (local.get $t0))))
        (local.set $count (f64.add (f64x2.extract_lane 0 (local.get $c0)) (f64x2.extract_lane 1 (local.get $c0))))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $m) (local.get $end)))
        (local.set $w (f32.load (local.get $m)))
        (if (f32.ne (local.get $w) (f32.const 0))
          (then
            (local.set $row (f32.const 0))
            (local.set $j (i32.const 0))
            (loop $cols
              (local.set $row (f32.add (local.get $row) (f32.abs (f32.sub
                (f32.load (i32.add (local.get $f) (i32.shl (local.get $j) (i32.const 2))))
                (f32.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 2))))))))
              (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $k))))
            (local.set $total (f64.add (local.get $total) (f64.promote_f32 (f32.mul (local.get $w) (local.get $row)))))
            (local.set $count (f64.add (local.get $count) (f64.promote_f32 (local.get $w))))))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $f (i32.add (local.get $f) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
        (br $rows)))
    (f64.store (local.get $sums) (f64.add (f64.load (local.get $sums)) (local.get $total)))
    (f64.store offset=8 (local.get $sums) (f64.add (f64.load offset=8 (local.get $sums)) (local.get $count))))

  ;; out[b, j] = m[b]·scale·sign(f[b, j] − y[b, j]) (0 at ties): the masked L1's gradient.
  (func (export "masked_l1_grad") (param $f i32) (param $y i32) (param $m i32) (param $rows i32) (param $k i32)
    (param $scale f32) (param $out i32)
    (local $end i32) (local $j i32) (local $w f32) (local $d f32) (local $at i32) (local $vw v128)
    (local $vd v128)
    (local.set $end (i32.add (local.get $m) (i32.shl (local.get $rows) (i32.const 2))))
    ;; k = 1: four rows a vector; k = 2: two. The row loop below takes the rest.
    (if (i32.le_u (local.get $k) (i32.const 2))
      (then
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.gt_u (i32.add (local.get $m) (i32.shl (i32.const 8) (i32.eq (local.get $k) (i32.const 1))))
              (local.get $end)))
            (if (i32.eq (local.get $k) (i32.const 1))
              (then
                (local.set $vw (v128.load align=4 (local.get $m)))
                (local.set $m (i32.add (local.get $m) (i32.const 16))))
              (else
                (local.set $vw (v128.load64_zero align=4 (local.get $m)))
                (local.set $vw (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $vw) (local.get $vw)))
                (local.set $m (i32.add (local.get $m) (i32.const 8)))))
            (local.set $vw (f32x4.mul (local.get $vw) (f32x4.splat (local.get $scale))))
            (local.set $vd (f32x4.sub (v128.load align=4 (local.get $f)) (v128.load align=4 (local.get $y))))
            (v128.store align=4 (local.get $out)
              (v128.or (v128.and (f32x4.gt (local.get $vd) (v128.const f32x4 0 0 0 0)) (local.get $vw))
                (v128.and (f32x4.lt (local.get $vd) (v128.const f32x4 0 0 0 0)) (f32x4.neg (local.get $vw)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $vec)))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $m) (local.get $end)))
        (local.set $w (f32.mul (f32.load (local.get $m)) (local.get $scale)))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $at (i32.shl (local.get $j) (i32.const 2)))
          (local.set $d (f32.sub (f32.load (i32.add (local.get $f) (local.get $at)))
            (f32.load (i32.add (local.get $y) (local.get $at)))))
          (f32.store (i32.add (local.get $out) (local.get $at))
            (select (f32.neg (local.get $w))
              (select (local.get $w) (f32.const 0) (f32.gt (local.get $d) (f32.const 0)))
              (f32.lt (local.get $d) (f32.const 0))))
          (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $k))))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $f (i32.add (local.get $f) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))))
        (br $rows))))

  ;; Softmax cross-entropy over rows of C logits, three passes (exp_f32 between the first two). Rows of
  ;; C ≥ 4 go four logits at a time, the row's last four (at C − 4) overlapping the ones before: max and
  ;; the shifted copy do not mind the overlap, the sums mask the lanes already counted, and the in-place
  ;; gradient reads the last four before it writes the others. Rows of fewer go one logit at a time.

  ;; Pass 1: mx[row] = max over the row, t = z − mx.
  (func (export "softmax_shift") (param $z i32) (param $rows i32) (param $C i32) (param $t i32) (param $mx i32)
    (local $end i32) (local $j i32) (local $m f32) (local $v f32) (local $rowBytes i32) (local $last i32)
    (local $at i32) (local $vm v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $last (i32.sub (local.get $rowBytes) (i32.const 16)))
    (local.set $end (i32.add (local.get $mx) (i32.shl (local.get $rows) (i32.const 2))))
    (if (i32.ge_u (local.get $C) (i32.const 4))
      (then
        (block $done
          (loop $rows
            (br_if $done (i32.ge_u (local.get $mx) (local.get $end)))
            (local.set $vm (v128.load align=4 (local.get $z)))
            (local.set $j (i32.const 16))
            (block $maxed
              (loop $max
                (br_if $maxed (i32.ge_u (local.get $j) (local.get $rowBytes)))
                (local.set $at (select (local.get $j) (local.get $last) (i32.lt_u (local.get $j) (local.get $last))))
                (local.set $vm (f32x4.pmax (local.get $vm) (v128.load align=4 (i32.add (local.get $z) (local.get $at)))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $max)))
            (local.set $vm (f32x4.pmax (local.get $vm) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
              (local.get $vm) (local.get $vm))))
            (local.set $vm (f32x4.pmax (local.get $vm) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11
              (local.get $vm) (local.get $vm))))
            (f32.store (local.get $mx) (f32x4.extract_lane 0 (local.get $vm)))
            (local.set $j (i32.const 0))
            (loop $shift
              (local.set $at (select (local.get $j) (local.get $last) (i32.lt_u (local.get $j) (local.get $last))))
              (v128.store align=4 (i32.add (local.get $t) (local.get $at))
                (f32x4.sub (v128.load align=4 (i32.add (local.get $z) (local.get $at))) (local.get $vm)))
              (br_if $shift (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
            (local.set $z (i32.add (local.get $z) (local.get $rowBytes)))
            (local.set $t (i32.add (local.get $t) (local.get $rowBytes)))
            (local.set $mx (i32.add (local.get $mx) (i32.const 4)))
            (br $rows))))
      (else
        (block $done
          (loop $rows
            (br_if $done (i32.ge_u (local.get $mx) (local.get $end)))
            (local.set $m (f32.load (local.get $z)))
            (local.set $j (i32.const 4))
            (block $maxed
              (loop $max
                (br_if $maxed (i32.ge_u (local.get $j) (local.get $rowBytes)))
                (local.set $v (f32.load (i32.add (local.get $z) (local.get $j))))
                (local.set $m (select (local.get $v) (local.get $m) (f32.gt (local.get $v) (local.get $m))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $max)))
            (f32.store (local.get $mx) (local.get $m))
            (local.set $j (i32.const 0))
            (loop $shift
              (f32.store (i32.add (local.get $t) (local.get $j))
                (f32.sub (f32.load (i32.add (local.get $z) (local.get $j))) (local.get $m)))
              (br_if $shift (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $rowBytes))))
            (local.set $z (i32.add (local.get $z) (local.get $rowBytes)))
            (local.set $t (i32.add (local.get $t) (local.get $rowBytes)))
            (local.set $mx (i32.add (local.get $mx) (i32.const 4)))
            (br $rows))))))

  ;; Pass 2 (after exp_f32 of t into e): per row, s[row] = Σ e and picked[row] = z[row, label[row]], 0 for
  ;; a label outside [0, C) (labels: int32, one a row).
  (func (export "softmax_rows") (param $e i32) (param $z i32) (param $labels i32) (param $rows i32) (param $C i32)
    (param $s i32) (param $picked i32)
    (local $end i32) (local $j i32) (local $sum f32) (local $l i32) (local $rowBytes i32) (local $last i32)
    (local $at i32) (local $mask v128) (local $vs v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $last (i32.sub (local.get $rowBytes) (i32.const 16)))
    (local.set $end (i32.add (local.get $s) (i32.shl (local.get $rows) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (if (i32.ge_u (local.get $C) (i32.const 4))
          (then
            (local.set $vs (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (loop $cols
              (local.set $at (select (local.get $j) (local.get $last) (i32.lt_u (local.get $j) (local.get $last))))
              ;; the lanes of the last four that the ones before already counted: (j − at)/4 of them
              (local.set $mask (i32x4.ge_s (v128.const i32x4 0 1 2 3)
                (i32x4.splat (i32.shr_u (i32.sub (local.get $j) (local.get $at)) (i32.const 2)))))
              (local.set $vs (f32x4.add (local.get $vs)
                (v128.and (v128.load align=4 (i32.add (local.get $e) (local.get $at))) (local.get $mask))))
              (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
            (local.set $sum (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $vs)) (f32x4.extract_lane 1 (local.get $vs)))
              (f32.add (f32x4.extract_lane 2 (local.get $vs)) (f32x4.extract_lane 3 (local.get $vs))))))
          (else
            (local.set $sum (f32.const 0))
            (local.set $j (i32.const 0))
            (loop $cols
              (local.set $sum (f32.add (local.get $sum) (f32.load (i32.add (local.get $e) (local.get $j)))))
              (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $rowBytes))))))
        (f32.store (local.get $s) (local.get $sum))
        (local.set $l (i32.load (local.get $labels)))
        ;; unsigned: a negative label is out of range too
        (f32.store (local.get $picked) (select
          (f32.load (i32.add (local.get $z) (i32.shl (local.get $l) (i32.const 2))))
          (f32.const 0)
          (i32.lt_u (local.get $l) (local.get $C))))
        (local.set $e (i32.add (local.get $e) (local.get $rowBytes)))
        (local.set $z (i32.add (local.get $z) (local.get $rowBytes)))
        (local.set $labels (i32.add (local.get $labels) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (local.set $picked (i32.add (local.get $picked) (i32.const 4)))
        (br $rows))))

  ;; Pass 3: g = m[row]·scale·(e/s[row] − onehot(label[row])), in place over e.
  (func (export "softmax_grad") (param $e i32) (param $labels i32) (param $m i32) (param $s i32) (param $rows i32)
    (param $C i32) (param $scale f32)
    (local $end i32) (local $j i32) (local $w f32) (local $inv f32) (local $rowBytes i32) (local $at i32)
    (local $last i32) (local $vw v128) (local $vi v128) (local $tail v128) (local $l i32) (local $el f32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $last (i32.sub (local.get $rowBytes) (i32.const 16)))
    (local.set $end (i32.add (local.get $m) (i32.shl (local.get $rows) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $m) (local.get $end)))
        (local.set $w (f32.mul (f32.load (local.get $m)) (local.get $scale)))
        (local.set $inv (f32.div (f32.const 1) (f32.load (local.get $s))))
        (local.set $l (i32.load (local.get $labels)))
        ;; the label's e before the row is overwritten (read in range: clamped to the row's first)
        (local.set $el (f32.load (i32.add (local.get $e)
          (i32.shl (select (local.get $l) (i32.const 0) (i32.lt_u (local.get $l) (local.get $C))) (i32.const 2)))))
        (if (i32.ge_u (local.get $C) (i32.const 4))
          (then
            (local.set $vw (f32x4.splat (local.get $w)))
            (local.set $vi (f32x4.splat (local.get $inv)))
            ;; the last four first (it overlaps the ones before, about to be overwritten)
            (local.set $tail (f32x4.mul (local.get $vw)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $e) (local.get $last))) (local.get $vi))))
            (local.set $j (i32.const 0))
            (block $whole
              (loop $cols
                (br_if $whole (i32.gt_u (local.get $j) (local.get $last)))
                (local.set $at (i32.add (local.get $e) (local.get $j)))
                (v128.store align=4 (local.get $at) (f32x4.mul (local.get $vw)
                  (f32x4.mul (v128.load align=4 (local.get $at)) (local.get $vi))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $cols)))
            (if (i32.lt_u (local.get $j) (local.get $rowBytes))
              (then (v128.store align=4 (i32.add (local.get $e) (local.get $last)) (local.get $tail)))))
          (else
            (local.set $j (i32.const 0))
            (loop $cols
              (local.set $at (i32.add (local.get $e) (local.get $j)))
              (f32.store (local.get $at) (f32.mul (local.get $w) (f32.mul (f32.load (local.get $at)) (local.get $inv))))
              (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $rowBytes))))))
        (if (i32.lt_u (local.get $l) (local.get $C))
          (then (f32.store (i32.add (local.get $e) (i32.shl (local.get $l) (i32.const 2)))
            (f32.mul (local.get $w) (f32.sub (f32.mul (local.get $el) (local.get $inv)) (f32.const 1))))))
        (local.set $e (i32.add (local.get $e) (local.get $rowBytes)))
        (local.set $labels (i32.add (local.get $labels) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (br $rows))))

  ;; The loss over rows/4·4 rows (the caller takes the rest): out[0] += Σ m·(log s + mx − picked) and
  ;; out[1] += Σ m (doubles), rows with m = 0 counting 0 whatever they hold. log is Cephes' logf four at a
  ;; time (≤ 1 ulp) — s, a sum of exponentials one of which is e⁰, is ≥ 1, so no zeros, denormals or
  ;; negatives reach it.
  (func (export "softmax_loss") (param $s i32) (param $mx i32) (param $picked i32) (param $m i32)
    (param $rows i32) (param $out i32)
    (local $end i32) (local $x v128) (local $e v128) (local $f v128) (local $z v128) (local $y v128)
    (local $lt v128) (local $w v128) (local $l v128) (local $t0 v128) (local $t1 v128) (local $c0 v128)
    (local $c1 v128)
    (local.set $end (i32.add (local.get $s) (i32.shl (i32.and (local.get $rows) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $x (v128.load align=4 (local.get $s)))
        ;; x = f·2^e, f in [0.5, 1); then f in [√½, √2) − 1 by moving one factor 2 from e where f < √½
        (local.set $e (i32x4.sub (i32x4.shr_u (local.get $x) (i32.const 23)) (i32x4.splat (i32.const 126))))
        (local.set $f (v128.or (v128.and (local.get $x) (i32x4.splat (i32.const 0x807FFFFF)))
          (i32x4.splat (i32.const 0x3F000000))))
        (local.set $lt (f32x4.lt (local.get $f) (f32x4.splat (f32.const 0.707106781186547524))))
        (local.set $e (f32x4.convert_i32x4_s (i32x4.add (local.get $e) (local.get $lt))))
        (local.set $f (f32x4.add (f32x4.sub (local.get $f) (f32x4.splat (f32.const 1)))
          (v128.and (local.get $f) (local.get $lt))))
        (local.set $z (f32x4.mul (local.get $f) (local.get $f)))
        (local.set $y (f32x4.splat (f32.const 7.0376836292E-2)))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.1514610310E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 1.1676998740E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.2420140846E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 1.4249322787E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.6668057665E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 2.0000714765E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -2.4999993993E-1))))
        (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 3.3333331174E-1))))
        (local.set $y (f32x4.mul (f32x4.mul (local.get $y) (local.get $f)) (local.get $z)))
        (local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $e) (f32x4.splat (f32.const -2.12194440e-4)))))
        (local.set $y (f32x4.sub (local.get $y) (f32x4.mul (local.get $z) (f32x4.splat (f32.const 0.5)))))
        (local.set $l (f32x4.add (f32x4.add (local.get $f) (local.get $y))
          (f32x4.mul (local.get $e) (f32x4.splat (f32.const 0.693359375)))))
        ;; + mx − picked, × m where m ≠ 0
        (local.set $l (f32x4.sub (f32x4.add (local.get $l) (v128.load align=4 (local.get $mx)))
          (v128.load align=4 (local.get $picked))))
        (local.set $w (v128.load align=4 (local.get $m)))
        (local.set $l (v128.and (f32x4.mul (local.get $w) (local.get $l))
          (f32x4.ne (local.get $w) (v128.const f32x4 0 0 0 0))))
        (local.set $t0 (f64x2.add (local.get $t0) (f64x2.promote_low_f32x4 (local.get $l))))
        (local.set $t1 (f64x2.add (local.get $t1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $l) (local.get $l)))))
        (local.set $c0 (f64x2.add (local.get $c0) (f64x2.promote_low_f32x4 (local.get $w))))
        (local.set $c1 (f64x2.add (local.get $c1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $mx (i32.add (local.get $mx) (i32.const 16)))
        (local.set $picked (i32.add (local.get $picked) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (br $four)))
    (local.set $t0 (f64x2.add (local.get $t0) (local.get $t1)))
    (local.set $c0 (f64x2.add (local.get $c0) (local.get $c1)))
    (f64.store (local.get $out) (f64.add (f64.load (local.get $out))
      (f64.add (f64x2.extract_lane 0 (local.get $t0)) (f64x2.extract_lane 1 (local.get $t0)))))
    (f64.store offset=8 (local.get $out) (f64.add (f64.load offset=8 (local.get $out))
      (f64.add (f64x2.extract_lane 0 (local.get $c0)) (f64x2.extract_lane 1 (local.get $c0))))))

  ;; One Adam step over n values: m′ = β1·m + (1 − β1)·g, v′ = β2·v + (1 − β2)·g², p′ = p − step·m′/(√(v′·invBc2) + ε)
  ;; (step = lr/(1 − β1^t), invBc2 = 1/(1 − β2^t)); four at a time, then the rest.
  (func (export "adam_step") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $op i32) (param $om i32) (param $ov i32) (param $b1 f32) (param $b2 f32) (param $step f32)
    (param $invBc2 f32) (param $eps f32)
    (local $i i32) (local $n4 i32) (local $at i32) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $n4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $vdone
      (loop $vec
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv (f32x4.add (f32x4.mul (f32x4.splat (local.get $b1)) (v128.load align=4 (i32.add (local.get $m) (local.get $i))))
          (f32x4.mul (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (f32x4.splat (local.get $b2)) (v128.load align=4 (i32.add (local.get $v) (local.get $i))))
          (f32x4.mul (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (v128.store align=4 (i32.add (local.get $om) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $ov) (local.get $i)) (local.get $vv))
        (v128.store align=4 (i32.add (local.get $op) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $p) (local.get $i)))
            (f32x4.div (f32x4.mul (f32x4.splat (local.get $step)) (local.get $mv))
              (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (f32x4.splat (local.get $invBc2))))
                (f32x4.splat (local.get $eps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $one
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms (f32.add (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $i))))
          (f32.mul (f32.sub (f32.const 1) (local.get $b1)) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $i))))
          (f32.mul (f32.sub (f32.const 1) (local.get $b2)) (f32.mul (local.get $gs) (local.get $gs)))))
        (f32.store (i32.add (local.get $om) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $ov) (local.get $i)) (local.get $vs))
        (f32.store (i32.add (local.get $op) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $p) (local.get $i)))
            (f32.div (f32.mul (local.get $step) (local.get $ms))
              (f32.add (f32.sqrt (f32.mul (local.get $vs) (local.get $invBc2))) (local.get $eps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $one))))

  ;; bytes zero bytes from at (memory.fill).
  (func (export "zero") (param $at i32) (param $bytes i32)
    (memory.fill (local.get $at) (i32.const 0) (local.get $bytes)))

  ;; Bilinear resizing, separably. lerp_rows: for each of `groups` blocks of inRows rows (rowLen values
  ;; each), dst row y = a + (b − a)·w[y] with a, b the block's rows lo[y], hi[y] (i32 and f32 tables of
  ;; outRows entries). lerp_cols: for each of `rows` rows of inCols pixels of C values, dst pixel x =
  ;; a + (b − a)·w[x] with a, b the pixels lo[x], hi[x]. The _adjoint forms add each output's share back
  ;; into dst (zeroed by the caller): (1 − w)·d into lo, w·d into hi.
  (func (export "lerp_rows") (param $src i32) (param $dst i32) (param $groups i32) (param $inRows i32)
    (param $rowLen i32) (param $outRows i32) (param $lo i32) (param $hi i32) (param $w i32)
    (local $g i32) (local $y i32) (local $rb i32) (local $a i32) (local $b i32) (local $k i32) (local $k4 i32)
    (local $f f32) (local $fv v128) (local $av v128) (local $n i32)
    (local.set $rb (i32.shl (local.get $rowLen) (i32.const 2)))
    (local.set $k4 (i32.shl (i32.and (local.get $rowLen) (i32.const -4)) (i32.const 2)))
    (local.set $g (i32.const 0))
    (loop $groups
      (local.set $y (i32.const 0))
      (loop $rows
        (local.set $n (i32.shl (local.get $y) (i32.const 2)))
        (local.set $a (i32.add (local.get $src) (i32.mul (i32.load (i32.add (local.get $lo) (local.get $n))) (local.get $rb))))
        (local.set $b (i32.add (local.get $src) (i32.mul (i32.load (i32.add (local.get $hi) (local.get $n))) (local.get $rb))))
        (local.set $f (f32.load (i32.add (local.get $w) (local.get $n))))
        (local.set $fv (f32x4.splat (local.get $f)))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $k4)))
            (local.set $av (v128.load align=4 (i32.add (local.get $a) (local.get $k))))
            (v128.store align=4 (i32.add (local.get $dst) (local.get $k))
              (f32x4.add (local.get $av) (f32x4.mul (f32x4.sub (v128.load align=4 (i32.add (local.get $b) (local.get $k)))
                (local.get $av)) (local.get $fv))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $vec)))
        (block $sdone
          (loop $one
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $rb)))
            (f32.store (i32.add (local.get $dst) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $a) (local.get $k)))
                (f32.mul (f32.sub (f32.load (i32.add (local.get $b) (local.get $k)))
                  (f32.load (i32.add (local.get $a) (local.get $k)))) (local.get $f))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $one)))
        (local.set $dst (i32.add (local.get $dst) (local.get $rb)))
        (br_if $rows (i32.lt_u (local.tee $y (i32.add (local.get $y) (i32.const 1))) (local.get $outRows))))
      (local.set $src (i32.add (local.get $src) (i32.mul (local.get $inRows) (local.get $rb))))
      (br_if $groups (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 1))) (local.get $groups)))))

  (func (export "lerp_rows_adjoint") (param $dy i32) (param $dst i32) (param $groups i32) (param $inRows i32)
    (param $rowLen i32) (param $outRows i32) (param $lo i32) (param $hi i32) (param $w i32)
    (local $g i32) (local $y i32) (local $rb i32) (local $a i32) (local $b i32) (local $k i32) (local $k4 i32)
    (local $f f32) (local $fv v128) (local $gv v128) (local $dv v128) (local $n i32) (local $d f32)
    (local.set $rb (i32.shl (local.get $rowLen) (i32.const 2)))
    (local.set $k4 (i32.shl (i32.and (local.get $rowLen) (i32.const -4)) (i32.const 2)))
    (local.set $g (i32.const 0))
    (loop $groups
      (local.set $y (i32.const 0))
      (loop $rows
        (local.set $n (i32.shl (local.get $y) (i32.const 2)))
        (local.set $a (i32.add (local.get $dst) (i32.mul (i32.load (i32.add (local.get $lo) (local.get $n))) (local.get $rb))))
        (local.set $b (i32.add (local.get $dst) (i32.mul (i32.load (i32.add (local.get $hi) (local.get $n))) (local.get $rb))))
        (local.set $f (f32.load (i32.add (local.get $w) (local.get $n))))
        (local.set $fv (f32x4.splat (local.get $f)))
        (local.set $gv (f32x4.splat (f32.sub (f32.const 1) (local.get $f))))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $k4)))
            (local.set $dv (v128.load align=4 (i32.add (local.get $dy) (local.get $k))))
            (v128.store align=4 (i32.add (local.get $a) (local.get $k))
              (f32x4.add (v128.load align=4 (i32.add (local.get $a) (local.get $k))) (f32x4.mul (local.get $dv) (local.get $gv))))
            (v128.store align=4 (i32.add (local.get $b) (local.get $k))
              (f32x4.add (v128.load align=4 (i32.add (local.get $b) (local.get $k))) (f32x4.mul (local.get $dv) (local.get $fv))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $vec)))
        (block $sdone
          (loop $one
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $rb)))
            (local.set $d (f32.load (i32.add (local.get $dy) (local.get $k))))
            (f32.store (i32.add (local.get $a) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $a) (local.get $k))) (f32.mul (local.get $d) (f32.sub (f32.const 1) (local.get $f)))))
            (f32.store (i32.add (local.get $b) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $b) (local.get $k))) (f32.mul (local.get $d) (local.get $f))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $one)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rb)))
        (br_if $rows (i32.lt_u (local.tee $y (i32.add (local.get $y) (i32.const 1))) (local.get $outRows))))
      (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $inRows) (local.get $rb))))
      (br_if $groups (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 1))) (local.get $groups)))))

  (func (export "lerp_cols") (param $src i32) (param $dst i32) (param $rows i32) (param $inCols i32) (param $C i32)
    (param $outCols i32) (param $lo i32) (param $hi i32) (param $w i32) (param $adjoint i32)
    (local $r i32) (local $x i32) (local $pb i32) (local $a i32) (local $b i32) (local $c i32) (local $n i32)
    (local $f f32) (local $va f32) (local $d f32)
    (local.set $pb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $x (i32.const 0))
      (loop $cols
        (local.set $n (i32.shl (local.get $x) (i32.const 2)))
        (local.set $a (i32.mul (i32.load (i32.add (local.get $lo) (local.get $n))) (local.get $pb)))
        (local.set $b (i32.mul (i32.load (i32.add (local.get $hi) (local.get $n))) (local.get $pb)))
        (local.set $f (f32.load (i32.add (local.get $w) (local.get $n))))
        (local.set $c (i32.const 0))
        (loop $channels
          (if (local.get $adjoint)
            (then
              ;; src is dy (outCols pixels a row), dst the input-sized gradient
              (local.set $d (f32.load (local.get $src)))
              (f32.store (i32.add (local.get $dst) (local.get $a))
                (f32.add (f32.load (i32.add (local.get $dst) (local.get $a)))
                  (f32.mul (local.get $d) (f32.sub (f32.const 1) (local.get $f)))))
              (f32.store (i32.add (local.get $dst) (local.get $b))
                (f32.add (f32.load (i32.add (local.get $dst) (local.get $b))) (f32.mul (local.get $d) (local.get $f))))
              (local.set $src (i32.add (local.get $src) (i32.const 4))))
            (else
              (local.set $va (f32.load (i32.add (local.get $src) (local.get $a))))
              (f32.store (local.get $dst) (f32.add (local.get $va)
                (f32.mul (f32.sub (f32.load (i32.add (local.get $src) (local.get $b))) (local.get $va)) (local.get $f))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (br_if $channels (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $C))))
        (br_if $cols (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 1))) (local.get $outCols))))
      ;; the next row: the input-sized side moves by inCols pixels
      (if (local.get $adjoint)
        (then (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $inCols) (local.get $pb)))))
        (else (local.set $src (i32.add (local.get $src) (i32.mul (local.get $inCols) (local.get $pb))))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rows)))))
  ;; out[M×N] = a[M×K]·bᵀ (+ bias[N] when hasBias ≠ 0): a and b row-major, b [N×K] (a row of b is a column
  ;; of the product's right operand); K a multiple of 4. Four rows of a at a time against each row of b,
  ;; the four dot products reduced together by shuffles into one vector, stored down column n of out.
  (func (export "mm_nt") (param $a i32) (param $M i32) (param $K i32) (param $b i32) (param $N i32)
    (param $bias i32) (param $hasBias i32) (param $out i32)
    (local $i i32) (local $n i32) (local $k i32) (local $kb i32) (local $pa i32) (local $pb i32)
    (local $po i32) (local $nb i32) (local $M4 i32) (local $rows i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $bv v128) (local $r v128)
    (local.set $kb (i32.shl (local.get $K) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $M4 (i32.and (local.get $M) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $M)))
        ;; rows in this block: 4, or the last M % 4 (then s1..s3 of rows past M stay unused)
        (local.set $rows (select (i32.const 4) (i32.sub (local.get $M) (local.get $i))
          (i32.lt_u (local.get $i) (local.get $M4))))
        (local.set $n (i32.const 0))
        (loop $cols
          (local.set $s0 (v128.const i32x4 0 0 0 0))
          (local.set $s1 (v128.const i32x4 0 0 0 0))
          (local.set $s2 (v128.const i32x4 0 0 0 0))
          (local.set $s3 (v128.const i32x4 0 0 0 0))
          (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kb))))
          (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $n) (local.get $kb))))
          (local.set $k (i32.const 0))
          (if (i32.eq (local.get $rows) (i32.const 4))
            (then
              (loop $dot4
                (local.set $bv (v128.load align=4 (i32.add (local.get $pb) (local.get $k))))
                (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $bv)
                  (v128.load align=4 (i32.add (local.get $pa) (local.get $k))))))
                (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $bv)
                  (v128.load align=4 (i32.add (i32.add (local.get $pa) (local.get $kb)) (local.get $k))))))
                (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $bv)
                  (v128.load align=4 (i32.add (i32.add (local.get $pa) (i32.shl (local.get $kb) (i32.const 1)))
                    (local.get $k))))))
                (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $bv)
                  (v128.load align=4 (i32.add (i32.add (local.get $pa) (i32.mul (local.get $kb) (i32.const 3)))
                    (local.get $k))))))
                (br_if $dot4 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kb)))))
            (else
              (loop $dot1
                (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
                  (v128.load align=4 (i32.add (local.get $pb) (local.get $k)))
                  (v128.load align=4 (i32.add (local.get $pa) (local.get $k))))))
                (br_if $dot1 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $kb))))))
          ;; [Σs0, Σs1, Σs2, Σs3]
          (local.set $s0 (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s0) (local.get $s1))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s0) (local.get $s1))))
          (local.set $s2 (f32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s2) (local.get $s3))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s2) (local.get $s3))))
          (local.set $r (f32x4.add
            (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $s0) (local.get $s2))
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $s0) (local.get $s2))))
          (if (local.get $hasBias)
            (then (local.set $r (f32x4.add (local.get $r)
              (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $n) (i32.const 2))))))))
          (local.set $po (i32.add (local.get $out)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $n)) (i32.const 2))))
          (f32.store (local.get $po) (f32x4.extract_lane 0 (local.get $r)))
          (if (i32.eq (local.get $rows) (i32.const 4))
            (then
              (f32.store (i32.add (local.get $po) (local.get $nb)) (f32x4.extract_lane 1 (local.get $r)))
              (f32.store (i32.add (local.get $po) (i32.shl (local.get $nb) (i32.const 1)))
                (f32x4.extract_lane 2 (local.get $r)))
              (f32.store (i32.add (local.get $po) (i32.mul (local.get $nb) (i32.const 3)))
                (f32x4.extract_lane 3 (local.get $r)))))
          (br_if $cols (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (local.get $N))))
        (local.set $i (i32.add (local.get $i) (select (i32.const 4) (i32.const 1)
          (i32.eq (local.get $rows) (i32.const 4)))))
        (br $blocks))))

  ;; out[M×N] = a[M×K]·b[K×N], all row-major, N a multiple of 4 (K small: the rows of b stay in cache).
  ;; Per row of a, four (or, at the end, one) vectors of the row of out at a time, each Σ_k a[i, k]·b[k, ·].
  (func (export "mm_small_k") (param $a i32) (param $M i32) (param $K i32) (param $b i32) (param $N i32)
    (param $out i32)
    (local $i i32) (local $j i32) (local $k i32) (local $nb i32) (local $pa i32) (local $pb i32) (local $po i32)
    (local $x v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $nb (i32.shl (local.get $N) (i32.const 2)))
    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $pa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $K)) (i32.const 2))))
      (local.set $po (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $nb))))
      (local.set $j (i32.const 0))
      (loop $chunks
        (local.set $pb (i32.add (local.get $b) (local.get $j)))
        (local.set $k (i32.const 0))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 64)) (local.get $nb))
          (then
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $c2 (v128.const i32x4 0 0 0 0))
            (local.set $c3 (v128.const i32x4 0 0 0 0))
            (loop $taps4
              (local.set $x (v128.load32_splat (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2)))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $pb)))))
              (local.set $c1 (f32x4.add (local.get $c1)
                (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $pb)))))
              (local.set $c2 (f32x4.add (local.get $c2)
                (f32x4.mul (local.get $x) (v128.load offset=32 align=4 (local.get $pb)))))
              (local.set $c3 (f32x4.add (local.get $c3)
                (f32x4.mul (local.get $x) (v128.load offset=48 align=4 (local.get $pb)))))
              (local.set $pb (i32.add (local.get $pb) (local.get $nb)))
              (br_if $taps4 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
            (v128.store align=4 (i32.add (local.get $po) (local.get $j)) (local.get $c0))
            (v128.store offset=16 align=4 (i32.add (local.get $po) (local.get $j)) (local.get $c1))
            (v128.store offset=32 align=4 (i32.add (local.get $po) (local.get $j)) (local.get $c2))
            (v128.store offset=48 align=4 (i32.add (local.get $po) (local.get $j)) (local.get $c3))
            (local.set $j (i32.add (local.get $j) (i32.const 64))))
          (else
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (loop $taps1
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul
                (v128.load32_splat (i32.add (local.get $pa) (i32.shl (local.get $k) (i32.const 2))))
                (v128.load align=4 (local.get $pb)))))
              (local.set $pb (i32.add (local.get $pb) (local.get $nb)))
              (br_if $taps1 (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $K))))
            (v128.store align=4 (i32.add (local.get $po) (local.get $j)) (local.get $c0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))))
        (br_if $chunks (i32.lt_u (local.get $j) (local.get $nb))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $M)))))
)
