/*
 * The virtio device core: feature negotiation, the status register and
 * its reset, DEVICE_NEEDS_RESET when the driver breaks the rules, and one
 * I/O thread per device. A vCPU's notify only writes the queue's kick
 * eventfd (so KVM's ioeventfd can take that over); the thread wakes on
 * it, takes dev->lock and lets the device work through the queue.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "virtio.h"

#define VIRTIO_FAILURES_LOGGED	16

int
virtio_dev_init(struct virtio_dev *dev, struct vmm *vmm,
    const struct virtio_ops *ops, void *priv, const char *name,
    uint64_t features, uint16_t nvqs, uint16_t queue_size)
{
	struct virtq	*vq;
	int		 i;

	if (nvqs == 0 || nvqs > VIRTIO_MAX_QUEUES || queue_size == 0 ||
	    queue_size > VIRTQ_MAX_SIZE || (queue_size & (queue_size - 1))) {
		errno = EINVAL;
		return -1;
	}
	memset(dev, 0, sizeof *dev);
	dev->vmm = vmm;
	dev->ops = ops;
	dev->priv = priv;
	snprintf(dev->name, sizeof dev->name, "%s", name);
	dev->features = features | VIRTIO_F(VIRTIO_F_VERSION_1);
	dev->nvqs = nvqs;
	dev->ctl_fd = -1;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		dev->vqs[i].kick_fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	if ((dev->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		goto fail;
	for (i = 0; i < nvqs; i++) {
		vq = &dev->vqs[i];
		vq->dev = dev;
		vq->index = i;
		vq->max_size = queue_size;
		virtq_reset(vq);
		vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vq->kick_fd == -1)
			goto fail;
	}
	return 0;
fail:
	virtio_dev_free(dev);
	return -1;
}

/* Close the eventfds (the thread is stopped). */
void
virtio_dev_free(struct virtio_dev *dev)
{
	int	i;

	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (dev->vqs[i].kick_fd != -1)
			close(dev->vqs[i].kick_fd);
		dev->vqs[i].kick_fd = -1;
	}
	if (dev->ctl_fd != -1)
		close(dev->ctl_fd);
	dev->ctl_fd = -1;
}

int
virtio_dev_has(const struct virtio_dev *dev, unsigned int bit)
{
	return (dev->acked & VIRTIO_F(bit)) != 0;
}

/* The driver is done setting up and the device is not broken. */
int
virtio_dev_live(const struct virtio_dev *dev)
{
	return (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void
eventfd_drain(int fd)
{
	uint64_t	v;

	while (read(fd, &v, sizeof v) == sizeof v)
		;
}

static void
eventfd_signal(int fd)
{
	uint64_t	one = 1;

	if (write(fd, &one, sizeof one) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

/* Back to the state after power-on; dev->lock is held. */
void
virtio_dev_reset(struct virtio_dev *dev)
{
	int	i;

	for (i = 0; i < dev->nvqs; i++) {
		virtq_reset(&dev->vqs[i]);
		eventfd_drain(dev->vqs[i].kick_fd);
	}
	dev->acked = 0;
	dev->status = 0;
	if (dev->ops->reset != NULL)
		dev->ops->reset(dev);
	if (dev->transport != NULL && dev->transport->reset != NULL)
		dev->transport->reset(dev);
	virtio_dev_wake(dev);
}

/* The driver wrote the status register; dev->lock is held. */
void
virtio_dev_set_status(struct virtio_dev *dev, uint8_t status)
{
	uint8_t	old = dev->status;
	int	i;

	if (status == 0) {
		virtio_dev_reset(dev);
		return;
	}
	/* FEATURES_OK sticks only for features we offered, with VERSION_1. */
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((dev->acked & ~dev->features) != 0 ||
	    !virtio_dev_has(dev, VIRTIO_F_VERSION_1)))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	status &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
	dev->status = status | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		/* Look at every queue: the driver may have filled some. */
		for (i = 0; i < dev->nvqs; i++)
			virtio_dev_kick(dev, i);
		virtio_dev_wake(dev);
	}
}

/*
 * The driver broke the rules: set DEVICE_NEEDS_RESET, stop using the
 * queues and tell the driver with a config change interrupt (virtio 1.1,
 * 2.1.2). dev->lock is held.
 */
void
virtio_dev_fail(struct virtio_dev *dev, const char *fmt, ...)
{
	char	why[256];
	va_list	ap;

	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (dev->failures++ < VIRTIO_FAILURES_LOGGED)
		log_warnx("%s: %s; the device needs a reset", dev->name, why);
	else
		log_debug("%s: %s; the device needs a reset", dev->name, why);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((dev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    dev->transport != NULL)
		dev->transport->signal_config(dev);
}

/* Interrupt the driver for vq if it wants one; dev->lock is held. */
void
virtio_dev_signal(struct virtio_dev *dev, struct virtq *vq)
{
	if (virtq_should_signal(vq) && dev->transport != NULL)
		dev->transport->signal_queue(dev, vq);
}

/* The driver notified queue q: wake the I/O thread for it. */
void
virtio_dev_kick(struct virtio_dev *dev, uint16_t q)
{
	if (q < dev->nvqs)
		eventfd_signal(dev->vqs[q].kick_fd);
}

/* Make the I/O thread look at the device's state again. */
void
virtio_dev_wake(struct virtio_dev *dev)
{
	eventfd_signal(dev->ctl_fd);
}

/* Let the device work through queue q, if the device is live. */
void
virtio_dev_process(struct virtio_dev *dev, uint16_t q)
{
	if (q >= dev->nvqs)
		return;
	pthread_mutex_lock(&dev->lock);
	if (virtio_dev_live(dev) && dev->vqs[q].ready)
		dev->ops->queue_notify(dev, &dev->vqs[q]);
	pthread_mutex_unlock(&dev->lock);
}

/* The I/O thread: kicks, wake-ups and the device's own fds. */
static void *
virtio_dev_thread(void *arg)
{
	struct virtio_dev	*dev = arg;
	struct pollfd		 pfd[VIRTIO_MAX_QUEUES + 1 + VIRTIO_IO_FDS];
	struct pollfd		*io = pfd + 1 + VIRTIO_MAX_QUEUES;
	uint64_t		 v;
	int			 i, n, nio, ready;

	for (;;) {
		pfd[0].fd = dev->ctl_fd;
		pfd[0].events = POLLIN;
		for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
			pfd[1 + i].fd = i < dev->nvqs ? dev->vqs[i].kick_fd : -1;
			pfd[1 + i].events = POLLIN;
		}
		nio = 0;
		if (dev->ops->io_events != NULL) {
			pthread_mutex_lock(&dev->lock);
			if (virtio_dev_live(dev))
				nio = dev->ops->io_events(dev, io);
			pthread_mutex_unlock(&dev->lock);
		}
		for (i = 0; i < nio; i++)
			if (io[i].events == 0)
				io[i].fd = -1;
		n = 1 + VIRTIO_MAX_QUEUES + nio;
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: poll", dev->name);
			break;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(dev->ctl_fd, &v, sizeof v) == -1 &&
			    errno != EAGAIN)
				log_warn("%s: eventfd", dev->name);
			if (__atomic_load_n(&dev->stopping, __ATOMIC_ACQUIRE))
				break;
		}
		for (i = 0; i < dev->nvqs; i++) {
			if (!(pfd[1 + i].revents & POLLIN))
				continue;
			if (read(pfd[1 + i].fd, &v, sizeof v) == -1 &&
			    errno != EAGAIN)
				log_warn("%s: eventfd", dev->name);
			virtio_dev_process(dev, i);
		}
		for (i = ready = 0; i < nio; i++)
			ready |= io[i].revents != 0;
		if (ready) {
			pthread_mutex_lock(&dev->lock);
			if (virtio_dev_live(dev))
				dev->ops->io_ready(dev, io, nio);
			pthread_mutex_unlock(&dev->lock);
		}
	}
	return NULL;
}

/* Start the I/O thread, with every signal blocked in it. */
int
virtio_dev_start(struct virtio_dev *dev)
{
	sigset_t	all, old;
	int		rv;

	if (dev->running)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&dev->thread, NULL, virtio_dev_thread, dev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		errno = rv;
		return -1;
	}
	dev->running = 1;
	return 0;
}

void
virtio_dev_stop(struct virtio_dev *dev)
{
	if (!dev->running)
		return;
	__atomic_store_n(&dev->stopping, 1, __ATOMIC_RELEASE);
	virtio_dev_wake(dev);
	pthread_join(dev->thread, NULL);
	dev->running = 0;
}

/* Stop the thread, leave the bus, and let the device free itself. */
void
virtio_dev_destroy(struct virtio_dev *dev)
{
	virtio_dev_stop(dev);
	if (dev->transport != NULL && dev->transport->free != NULL)
		dev->transport->free(dev);
	virtio_dev_free(dev);
	pthread_mutex_destroy(&dev->lock);
	dev->ops->destroy(dev);
}
