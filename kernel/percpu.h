/*
 * Kernel shim: per-CPU variables.
 *
 * DEFINE_PER_CPU-style data: one copy per emulated CPU, sized when the machine is
 * known. this_cpu_ptr() touches the running CPU's copy, which is CPU-local state (no
 * sync point); reading another CPU's copy with per_cpu() is the caller's business to
 * order (use shared<T> fields for data other CPUs read).
 *
 * Context: per_cpu_init() at setup; the rest inside Machine::run().
 */
#pragma once

#include <vector>

#include "kernel/compiler.h"

template <typename T>
struct per_cpu_var {
	std::vector<T> copies;
};

template <typename T>
static inline void per_cpu_init(per_cpu_var<T> *v, int ncpus)
{
	v->copies.assign(static_cast<size_t>(ncpus), T{});
}

template <typename T>
static inline T *per_cpu_ptr(per_cpu_var<T> *v, int cpu)
{
	return &v->copies[static_cast<size_t>(cpu)];
}

template <typename T>
static inline T *this_cpu_ptr(per_cpu_var<T> *v)
{
	return per_cpu_ptr(v, smpemu::running_machine("this_cpu_ptr()").cpu_id());
}

#define per_cpu(var, cpu) (*per_cpu_ptr(&(var), (cpu)))
