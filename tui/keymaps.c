/*
 * The standard keymaps, built into the binary so that the dashboard needs
 * no data files: the assembler includes keymaps/default.keys, vi.keys and
 * emacs.keys as they are (the build runs in the top folder), so
 * tui/keymaps.o depends on them in the Makefile.
 */
#include <string.h>

#include "tui.h"

#define KEYMAPS_INCLUDE(sym, file)					\
	"	.section .rodata\n"					\
	"	.global " #sym "\n"					\
	"	.type " #sym ", @object\n"				\
	#sym ":\n"							\
	"	.incbin \"" file "\"\n"					\
	"	.byte 0\n"						\
	"	.size " #sym ", . - " #sym "\n"				\
	"	.previous\n"

__asm__(
	KEYMAPS_INCLUDE(keymaps_default, "keymaps/default.keys")
	KEYMAPS_INCLUDE(keymaps_vi, "keymaps/vi.keys")
	KEYMAPS_INCLUDE(keymaps_emacs, "keymaps/emacs.keys")
);

extern const char keymaps_default[];
extern const char keymaps_vi[];
extern const char keymaps_emacs[];

/* The text of a built-in keymap, or NULL if there is none of that name. */
const char *
keymaps_find(const char *name)
{
	if (strcmp(name, "default") == 0)
		return keymaps_default;
	if (strcmp(name, "vi") == 0)
		return keymaps_vi;
	if (strcmp(name, "emacs") == 0)
		return keymaps_emacs;
	return NULL;
}
