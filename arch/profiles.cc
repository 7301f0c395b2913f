/*
 * Machine profiles. Every number cites its source; docs/COSTS.md names the publications
 * and gives the tables they are taken from.
 */
#include "arch/profiles.h"

#include <bit>

using smpemu::CostTable;
using smpemu::CpuPlace;
using smpemu::Distance;

namespace {

constexpr std::size_t idx(Distance d) { return static_cast<std::size_t>(d); }

/*
 * A transfer is a request leg and a reply leg of about the same length: mctop and SSYNC
 * time a whole round trip (the figures below), and core-to-core-latency reports half a
 * CAS round trip as the one-way latency (docs/COSTS.md). The request leg overlaps with
 * the transfers queued ahead on a line; the reply serialises (emu/coherence.h).
 */
#define REQUEST_LEG_PCT 50

/*
 * x86 IPIs, from the shootdown measurement of Nadav Amit (LKML, May 2019; docs/COSTS.md
 * rows "shootdown, first remote +2000" and "each further remote +150..200" cycles).
 * ipi_send is the sender's cost per target (an x2APIC ICR write and the request's
 * set-up): each further remote CPU of a shootdown costs that, ~70 ns. ipi_latency is
 * delivery up to the handler, interrupt entry and exit included: what is left of the
 * first remote's +2000 once the model's own parts are charged (the send, 150; the
 * transfer to the target, ~116 on one die; the handler's one-page invalidation, 229
 * (arch/x86/tlb.h); the ack, a 116-cycle transfer and a 20-cycle atomic; the sender's
 * reload of it, 116): 2000 - 747 = 1253. Both serve every IPI, wakeups included.
 */
#define IPI_SEND 150
#define IPI_LATENCY 1250

/*
 * 4-socket Opteron 6172 (Magny-Cours): each package holds 2 dies. Model choice: the
 * four packages sit on a square, so adjacent packages are 1 hop apart and opposite
 * ones 2 hops (the mctop description has both 1- and 2-hop pairs).
 */
int square_hops(int a, int b)
{
	int d = (a - b + 4) % 4;
	return d == 2 ? 2 : 1;
}

/*
 * 8-socket Xeon E7-8867L: model choice, sockets as a 3-cube, so sockets whose ids
 * differ in one bit are 1 hop apart and all others 2 hops (mctop reports 1- and 2-hop
 * classes only).
 */
int cube_hops(int a, int b)
{
	return std::popcount(static_cast<unsigned>(a ^ b)) == 1 ? 1 : 2;
}

/* POWER7 drawer: every chip has a direct X-bus link to every other chip. */
int full_mesh_hops(int, int)
{
	return 1;
}

CostTable opteron48_costs()
{
	CostTable c;
	/* mctop desc of the 48-core Opteron (Chatzopoulos et al., EuroSys'17), docs/COSTS.md */
	c.transfer[idx(Distance::Self)] = 0;
	c.transfer[idx(Distance::Smt)] = 117;	/* no SMT on this part: same as same die */
	c.transfer[idx(Distance::Die)] = 117;
	c.transfer[idx(Distance::Package)] = 197;
	c.transfer[idx(Distance::Hop1)] = 217;
	c.transfer[idx(Distance::Hop2)] = 300;
	c.memory = 300;			/* (assumed) like the farthest transfer */
	c.hit = 4;			/* (assumed) L1 hit */
	c.local_rmw = 20;		/* docs/COSTS.md: local uncontended CAS ~17-20 cycles */
	c.inval_per_sharer = 20;	/* (assumed) */
	c.request_leg_pct = REQUEST_LEG_PCT;
	c.ipi_send = IPI_SEND;
	c.ipi_latency = IPI_LATENCY;
	c.ctx_switch = 3000;		/* docs/COSTS.md: lmbench lat_ctx 1.2-1.6 us */
	c.barrier = 40;			/* (assumed) mfence with an empty store buffer */
	c.clock_hz = 2100000000ULL;	/* Opteron 6172, 2.1 GHz (David et al., SOSP'13) */
	return c;
}

CostTable xeon80_costs()
{
	CostTable c;
	/* mctop desc of the 8-socket x 10-core x 2-thread Xeon (EuroSys'17), docs/COSTS.md */
	c.transfer[idx(Distance::Self)] = 0;
	c.transfer[idx(Distance::Smt)] = 28;
	c.transfer[idx(Distance::Die)] = 116;
	c.transfer[idx(Distance::Package)] = 116;	/* one die per socket */
	c.transfer[idx(Distance::Hop1)] = 341;
	c.transfer[idx(Distance::Hop2)] = 458;
	c.memory = 458;			/* (assumed) like the farthest transfer */
	c.hit = 4;			/* (assumed) */
	c.local_rmw = 20;		/* docs/COSTS.md */
	c.inval_per_sharer = 20;	/* (assumed) */
	c.request_leg_pct = REQUEST_LEG_PCT;
	c.ipi_send = IPI_SEND;
	c.ipi_latency = IPI_LATENCY;
	c.ctx_switch = 3000;		/* docs/COSTS.md */
	c.barrier = 40;			/* (assumed) */
	c.clock_hz = 2130000000ULL;	/* Xeon E7-8867L, 2.13 GHz (David et al., SOSP'13) */
	return c;
}

CostTable power7_costs()
{
	CostTable c;
	/* nviennot/core-to-core-latency, POWER7 3.3 GHz: 157-190 ns in chip, 430-450 ns across */
	c.transfer[idx(Distance::Self)] = 0;
	c.transfer[idx(Distance::Smt)] = 60;	/* (assumed) shared L1/L2 of a core */
	c.transfer[idx(Distance::Die)] = 570;
	c.transfer[idx(Distance::Package)] = 570;	/* one die per chip */
	c.transfer[idx(Distance::Hop1)] = 1460;
	c.transfer[idx(Distance::Hop2)] = 1460;	/* fully connected drawer */
	c.memory = 1460;		/* (assumed) */
	c.hit = 4;			/* (assumed) */
	c.local_rmw = 20;		/* docs/COSTS.md (assumed for POWER7) */
	c.inval_per_sharer = 40;	/* (assumed) */
	c.request_leg_pct = REQUEST_LEG_PCT;
	c.ipi_send = 200;		/* (assumed) */
	c.ipi_latency = 1460;		/* (assumed) tlbie/IPI ~ one hop, docs/COSTS.md */
	c.ctx_switch = 4000;		/* docs/COSTS.md (assumed) */
	c.barrier = 100;		/* (assumed) hwsync */
	c.clock_hz = 3300000000ULL;	/* docs/COSTS.md: POWER7 3.3 GHz */
	return c;
}

const machine_profile opteron48 = {
	"opteron48", "4-socket AMD Opteron 6172: 8 dies x 6 cores, 2.1 GHz",
	4, 2, 6, 1, square_hops, opteron48_costs(),
	"mctop opteron48 (Chatzopoulos et al., EuroSys'17); SSYNC (David et al., SOSP'13); lmbench lat_ctx",
};

const machine_profile xeon80 = {
	"xeon80", "8-socket Intel Xeon E7-8867L: 10 cores x 2 threads each, 2.13 GHz",
	8, 1, 10, 2, cube_hops, xeon80_costs(),
	"mctop xeon80 (Chatzopoulos et al., EuroSys'17); SSYNC (SOSP'13); Nadav Amit, LKML 2019 (shootdown)",
};

const machine_profile power7 = {
	"power7", "4-chip IBM POWER7: 8 cores x 4 threads each, 3.3 GHz",
	4, 1, 8, 4, full_mesh_hops, power7_costs(),
	"nviennot/core-to-core-latency (POWER7); IBM POWER7 tuning guide; many figures assumed",
};

}  // namespace

const std::vector<const machine_profile *> &machine_profiles()
{
	static const std::vector<const machine_profile *> all = {&opteron48, &xeon80, &power7};
	return all;
}

const machine_profile *find_machine_profile(const std::string &name)
{
	for (const machine_profile *p : machine_profiles())
		if (name == p->name)
			return p;
	return nullptr;
}

int machine_profile_cpus(const machine_profile *p)
{
	return p->sockets * p->dies_per_socket * p->cores_per_die * p->threads_per_core;
}

smpemu::Topology build_topology(const machine_profile *p, int ncpus)
{
	const int per_copy = machine_profile_cpus(p);
	const int ncores = p->sockets * p->dies_per_socket * p->cores_per_die;
	const int cores_per_socket = p->dies_per_socket * p->cores_per_die;
	const int copies = (ncpus + per_copy - 1) / per_copy;
	const int nsockets = copies * p->sockets;
	std::vector<CpuPlace> places(static_cast<std::size_t>(ncpus));

	for (int i = 0; i < ncpus; i++) {
		const int copy = i / per_copy;
		const int local = i % per_copy;
		const int core = local % ncores;
		CpuPlace &pl = places[static_cast<std::size_t>(i)];
		pl.thread = local / ncores;
		pl.core = copy * ncores + core;
		pl.die = copy * p->sockets * p->dies_per_socket + core / p->cores_per_die;
		pl.socket = copy * p->sockets + core / cores_per_socket;
	}
	std::vector<std::uint8_t> hops(static_cast<std::size_t>(nsockets * nsockets), 0);
	for (int a = 0; a < nsockets; a++)
		for (int b = 0; b < nsockets; b++) {
			int h = 0;
			if (a != b)
				h = (a / p->sockets != b / p->sockets) ? 2 : p->socket_hops(a % p->sockets, b % p->sockets);
			hops[static_cast<std::size_t>(a * nsockets + b)] = static_cast<std::uint8_t>(h);
		}
	return smpemu::Topology(std::move(places), nsockets, std::move(hops));
}
