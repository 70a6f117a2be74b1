/*
 * The PC's interrupt wiring on KVM's in-kernel irqchip (two PICs and an
 * IOAPIC), as the MADT in acpi.c describes it.
 */
#include <linux/kvm.h>

#include <string.h>

#include "x86.h"

/*
 * The PC's interrupt routing: ISA IRQs to the PICs, IRQ 0 (the PIT) to
 * IOAPIC pin 2 as the MADT's override says, the other GSIs to their
 * IOAPIC pins. KVM's own default sends IRQ 0 to pin 0, where Linux never
 * looks, and the guest would lose its timer once it masks the PIC.
 */
void
x86_irq_routes(struct kvm_irq_routing *r)
{
	struct kvm_irq_routing_entry *e;
	int gsi;

	r->nr = 0;
	for (gsi = 0; gsi < X86_IRQCHIP_GSIS; gsi++) {
		if (gsi == 2)
			continue;	/* the PIC cascade */
		e = &r->entries[r->nr++];
		memset(e, 0, sizeof *e);
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
		if (gsi >= 16)
			continue;
		e = &r->entries[r->nr++];
		memset(e, 0, sizeof *e);
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
		    KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi % 8;
	}
}

