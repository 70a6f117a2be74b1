/*
 * ACPI fixed hardware (PM1a event and control blocks, reset register) in
 * port I/O, as the FADT describes it. The guest powers off by writing the
 * \_S5 sleep type with SLP_EN, reboots by writing the reset value, and
 * learns of a power button press from PWRBTN_STS and the SCI (GSI 9,
 * level triggered). There is no SMI command port: the system is always
 * in ACPI mode, so SCI_EN reads as set.
 */
#include <pthread.h>
#include <stdlib.h>

#include "hw.h"
#include "vmm.h"
#include "xmalloc.h"

#define PM_STS_OFF	0
#define PM_EN_OFF	2
#define PM_CNT_OFF	4
#define PM_RESET_OFF	8

/* The status bits that raise the SCI when enabled. */
#define PM1_EVENTS	(PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | \
			 PM1_SLPBTN_STS | PM1_RTC_STS)

struct pm {
	struct vmm	*vmm;
	pthread_mutex_t	 lock;
	uint16_t	 sts;
	uint16_t	 en;
	uint16_t	 cnt;
	int		 sci_level;
};

struct pm *
pm_create(struct vmm *vmm)
{
	struct pm *pm;

	pm = xcalloc(1, sizeof *pm);
	pm->vmm = vmm;
	pm->cnt = PM1_SCI_EN;
	pthread_mutex_init(&pm->lock, NULL);
	if (vmm != NULL && bus_register(&vmm->pio, PM_BASE, PM_LEN, pm_io, pm,
	    "acpi pm") == -1) {
		pm_destroy(pm);
		return NULL;
	}
	return pm;
}

void
pm_destroy(struct pm *pm)
{
	if (pm == NULL)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* Lock held. */
static void
pm_update_sci(struct pm *pm)
{
	int level;

	level = (pm->cnt & PM1_SCI_EN) && (pm->sts & pm->en & PM1_EVENTS);
	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	if (pm->vmm != NULL && pm->vmm->irq.line != NULL)
		pm->vmm->irq.line(pm->vmm->irq_opaque, PM_SCI_IRQ, level);
}

/* A PM1 control write: SLP_EN with the \_S5 type powers off. */
static void
pm_control(struct pm *pm)
{
	unsigned int typ;

	if (!(pm->cnt & PM1_SLP_EN))
		return;
	pm->cnt &= ~PM1_SLP_EN;		/* write-only */
	typ = (pm->cnt & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;
	if (typ == PM_SLP_TYP_S5 && pm->vmm != NULL)
		vmm_request_exit(pm->vmm, VMM_POWEROFF, "the guest powered "
		    "off");
}

static uint8_t
pm_read(struct pm *pm, uint64_t off)
{
	switch (off) {
	case PM_STS_OFF:
	case PM_STS_OFF + 1:
		return pm->sts >> (8 * (off - PM_STS_OFF));
	case PM_EN_OFF:
	case PM_EN_OFF + 1:
		return pm->en >> (8 * (off - PM_EN_OFF));
	case PM_CNT_OFF:
	case PM_CNT_OFF + 1:
		return pm->cnt >> (8 * (off - PM_CNT_OFF));
	}
	return off == PM_RESET_OFF ? 0 : 0xff;
}

static void
pm_write(struct pm *pm, uint64_t off, uint8_t v)
{
	unsigned int shift;

	switch (off) {
	case PM_STS_OFF:
	case PM_STS_OFF + 1:
		/* Write one to clear. */
		shift = 8 * (off - PM_STS_OFF);
		pm->sts &= ~(uint16_t)(v << shift);
		break;
	case PM_EN_OFF:
	case PM_EN_OFF + 1:
		shift = 8 * (off - PM_EN_OFF);
		pm->en = (pm->en & ~(0xff << shift)) | (v << shift);
		break;
	case PM_CNT_OFF:
	case PM_CNT_OFF + 1:
		shift = 8 * (off - PM_CNT_OFF);
		pm->cnt = (pm->cnt & ~(0xff << shift)) | (v << shift);
		pm->cnt |= PM1_SCI_EN;
		break;
	case PM_RESET_OFF:
		if (v == PM_RESET_VALUE && pm->vmm != NULL)
			vmm_request_exit(pm->vmm, VMM_REBOOT, "the guest reset "
			    "the machine through the ACPI reset register");
		break;
	}
}

/* The bus handler: registers are composed byte by byte, any width. */
void
pm_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	struct pm *pm = opaque;
	uint32_t i;

	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < len; i++) {
		if (is_write)
			pm_write(pm, off + i, data[i]);
		else
			data[i] = pm_read(pm, off + i);
	}
	/* Act on a whole control word, not on half of it. */
	if (is_write && off <= PM_CNT_OFF + 1 && off + len > PM_CNT_OFF)
		pm_control(pm);
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void
pm_power_button(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_PWRBTN_STS;
	pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

int
pm_power_button_enabled(struct pm *pm)
{
	int on;

	pthread_mutex_lock(&pm->lock);
	on = (pm->en & PM1_PWRBTN_STS) != 0;
	pthread_mutex_unlock(&pm->lock);
	return on;
}
