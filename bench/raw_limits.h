/*
 * Raw limits shared by the benchmarks: what one core does without vitae around it
 * (Ed25519 sign and verify through libsodium, durable LMDB commits of batched records),
 * measured in the same run as the figure they bound, and the JSON-lines output format of
 * design.md ("limit" and "ratio" beside a figure when a limit applies).
 */
#ifndef VITAE_BENCH_RAW_LIMITS_H
#define VITAE_BENCH_RAW_LIMITS_H

#include "core/core.h"

/* Monotonic seconds. */
double bench_now_s(void);

/* One line {"bench","name","value","unit"[,"limit","ratio"]}; limit ≤ 0 leaves both out. */
void bench_emit(const char *bench, const char *name, double value, const char *unit, double limit);

/* Ed25519 signatures (or verifications) of 300-byte messages per second, summed over
 * `threads` threads (1..8) running for `seconds`. */
double bench_raw_sign(const struct vt_key *key, unsigned threads, double seconds);
double bench_raw_verify(const struct vt_key *key, unsigned threads, double seconds);

/* 300-byte records per second committed durably (LMDB defaults, one fsync per commit) in
 * `batches` transactions of `per_batch` records, in a fresh environment under a temporary
 * directory that is removed afterwards. Exits 74 when LMDB cannot be used. */
double bench_raw_lmdb(int batches, int per_batch);

/* A fresh directory "/tmp/vitae-bench-<what>-XXXXXX" (malloc'd), and its removal. */
char *bench_tmpdir(const char *what);
void bench_rmtree(const char *dir);

#endif
