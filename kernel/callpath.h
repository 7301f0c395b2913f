/*
 * Kernel shim: call paths (emu/callpath.h).
 *
 * The kernel finds who called a lock operation or a check from its stack unwinder and
 * _RET_IP_; emulated code runs on fibers, so it says so itself:
 *
 *  - KFUNC() at the top of a function puts it on the running task's call path until it
 *    returns. Reports, lock statistics and traces then print paths such as
 *    "mm/truncate.cc:92 unmap_mapping_range_vma <- unmap_mapping_range <- vmtruncate".
 *  - A shim operation that reports where it was called takes `caller_ip_t ip = _RET_IP_`
 *    as its last parameter: the default argument is the caller's file, line and
 *    function (smpemu::Where), exact even in functions without KFUNC().
 *
 * Cost: KFUNC() is a thread-local load, a store and an increment, and a decrement on
 * return; it is not a sync point and never changes a digest.
 *
 * Context: any. Outside Machine::run() (setup code) KFUNC() does nothing.
 */
#pragma once

#include "emu/callpath.h"

typedef smpemu::Where caller_ip_t;

#define _RET_IP_ smpemu::Where::here()

#define __KFUNC_NAME2(a, b) a##b
#define __KFUNC_NAME(line) __KFUNC_NAME2(__kfunc_frame_, line)
#define KFUNC() const smpemu::CallFrame __KFUNC_NAME(__LINE__)
