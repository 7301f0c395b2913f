/*
 * Kernel shim: everything mm/ and arch/ code may use to reach the engine.
 *
 * Only these headers cross the border between kernel-style code and the engine
 * (docs/KERNEL.md).
 */
#pragma once

#include "kernel/atomic.h"
#include "kernel/bug.h"
#include "kernel/compiler.h"
#include "kernel/completion.h"
#include "kernel/machine_ext.h"
#include "kernel/mutex.h"
#include "kernel/percpu.h"
#include "kernel/rcupdate.h"
#include "kernel/rwlock.h"
#include "kernel/rwsem.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
