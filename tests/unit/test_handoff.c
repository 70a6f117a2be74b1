/*
 * Unit tests for the runner's end of the hand-off (vmm/handoff.c): the
 * params, one fd per message into its slot by kind, index and depth, the
 * end of the hand-off, and what it refuses (bad or repeated fds, messages
 * out of order or for another VM, params the runner cannot run, the
 * engine hanging up).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "handoff.h"
#include "vmcheck.h"
#include "msg.h"
#include "proto.h"
#include "vmm.h"

#define TEST_ID	7

struct peer {
	int	engine;		/* the engine's end */
	int	runner;
};

static void
peer_open(struct peer *pr)
{
	int	sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pr->engine = sv[0];
	pr->runner = sv[1];
}

static void
peer_close(struct peer *pr)
{
	if (pr->engine != -1)
		close(pr->engine);
	close(pr->runner);
}

static void
send_params(struct peer *pr, uint32_t id, uint32_t vcpus, uint64_t memory)
{
	struct proto_run_params	p;

	memset(&p, 0, sizeof p);
	p.id = id;
	snprintf(p.name, sizeof p.name, "t");
	p.vcpus = vcpus;
	p.memory = memory;
	p.ndisks = 1;
	p.nnics = 1;
	assert_int_equal(msg_send_sync(pr->engine, MSG_RUN_PARAMS, id, -1, &p,
	    sizeof p), 0);
}

/* Hand over a fresh fd of /dev/null as kind/index/depth. */
static void
send_fd(struct peer *pr, uint32_t id, uint32_t kind, uint32_t index,
    uint32_t depth)
{
	struct proto_run_fd	rf = { kind, index, depth };
	int			fd;

	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(msg_send_sync(pr->engine, MSG_RUN_FD, id, fd, &rf,
	    sizeof rf), 0);
	close(fd);
}

static void
send_end(struct peer *pr, uint32_t id)
{
	assert_int_equal(msg_send_sync(pr->engine, MSG_RUN_START_END, id, -1,
	    NULL, 0), 0);
}

/* handoff_receive() on the runner's end fails with a sentence. */
static void
receive_fails(struct peer *pr, const char *want)
{
	struct proto_run_params	p;
	struct vmm_fds		fds;
	char			err[PROTO_TEXT_SIZE] = "";

	assert_int_equal(handoff_receive(pr->runner, &p, &fds, err,
	    sizeof err), -1);
	assert_true(err[0] != '\0');
	if (want != NULL && strstr(err, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, want);
}

static void
test_receive(void **state)
{
	struct proto_run_params	p;
	struct vmm_fds		fds;
	struct peer		pr;
	char			err[PROTO_TEXT_SIZE] = "";
	int			list[64], n, i;

	(void)state;
	peer_open(&pr);
	send_params(&pr, TEST_ID, 2, 64ULL << 20);
	send_fd(&pr, TEST_ID, RUNFD_KVM, 0, 0);
	send_fd(&pr, TEST_ID, RUNFD_KERNEL, 0, 0);
	send_fd(&pr, TEST_ID, RUNFD_DISK, 1, 0);
	send_fd(&pr, TEST_ID, RUNFD_DISK_BASE, 1, 2);
	send_fd(&pr, TEST_ID, RUNFD_NIC, 3, 0);
	send_fd(&pr, TEST_ID, RUNFD_PTY, 0, 0);
	send_end(&pr, TEST_ID);
	assert_int_equal(handoff_receive(pr.runner, &p, &fds, err, sizeof err),
	    0);
	assert_int_equal(p.id, TEST_ID);
	assert_int_equal(p.vcpus, 2);
	assert_string_equal(p.name, "t");
	assert_true(fds.kvm >= 0 && fds.kernel >= 0 && fds.pty >= 0);
	assert_int_equal(fds.initrd, -1);
	assert_int_equal(fds.bios, -1);
	assert_int_equal(fds.cdrom, -1);
	assert_int_equal(fds.disks[0], -1);
	assert_true(fds.disks[1] >= 0);
	assert_int_equal(fds.bases[1][0], -1);
	assert_true(fds.bases[1][1] >= 0);
	assert_true(fds.nics[3] >= 0);
	assert_int_equal(fds.nics[0], -1);
	/* Every fd for the sandbox, and the engine's socket last. */
	n = handoff_fd_list(&fds, list, sizeof list / sizeof list[0]);
	assert_int_equal(n, 7);
	assert_int_equal(list[n - 1], pr.runner);
	for (i = 0; i < n - 1; i++)
		close(list[i]);
	peer_close(&pr);
}

static void
test_bad_fds(void **state)
{
	struct peer	pr;

	(void)state;
	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_fd(&pr, TEST_ID, RUNFD_DISK, VM_MAX_DISKS, 0);
	receive_fails(&pr, "bad or repeated fd");
	peer_close(&pr);

	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_fd(&pr, TEST_ID, RUNFD_DISK_BASE, 0, 0);	/* depth from 1 */
	receive_fails(&pr, "bad or repeated fd");
	peer_close(&pr);

	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_fd(&pr, TEST_ID, RUNFD_KVM, 0, 0);
	send_fd(&pr, TEST_ID, RUNFD_KVM, 0, 0);
	receive_fails(&pr, "bad or repeated fd");
	peer_close(&pr);

	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_fd(&pr, TEST_ID, RUNFD_KIND_COUNT, 0, 0);
	receive_fails(&pr, "bad or repeated fd");
	peer_close(&pr);
}

static void
test_order(void **state)
{
	struct peer	pr;

	(void)state;
	/* An fd before the params. */
	peer_open(&pr);
	send_fd(&pr, TEST_ID, RUNFD_KVM, 0, 0);
	receive_fails(&pr, "unexpected message");
	peer_close(&pr);

	/* The end before the params. */
	peer_open(&pr);
	send_end(&pr, TEST_ID);
	receive_fails(&pr, "unexpected message");
	peer_close(&pr);

	/* Params twice. */
	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	receive_fails(&pr, "unexpected message");
	peer_close(&pr);

	/* A message for another VM. */
	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	send_fd(&pr, TEST_ID + 1, RUNFD_KVM, 0, 0);
	receive_fails(&pr, "vm id 8");
	peer_close(&pr);

	/* The engine hangs up half-way. */
	peer_open(&pr);
	send_params(&pr, TEST_ID, 1, 64ULL << 20);
	close(pr.engine);
	pr.engine = -1;
	receive_fails(&pr, "hung up");
	peer_close(&pr);
}

/*
 * Params the runner cannot run are refused before any fd; the engine's end
 * stops writing, so params that pass end in "hung up", not a hang.
 */
static void
params_refused(uint32_t vcpus, uint64_t memory, const char *want)
{
	struct peer	pr;

	peer_open(&pr);
	send_params(&pr, TEST_ID, vcpus, memory);
	shutdown(pr.engine, SHUT_WR);
	receive_fails(&pr, want);
	peer_close(&pr);
}

static void
test_params(void **state)
{
	(void)state;
	params_refused(0, 64ULL << 20, "vcpus");
	params_refused(VM_MAX_VCPUS + 1, 64ULL << 20, "vcpus");
	params_refused(1, VMCHECK_MIN_MEMORY - 4096, "memory");
	params_refused(1, VMCHECK_MAX_MEMORY + 4096, "memory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_bad_fds),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
