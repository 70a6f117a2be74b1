/*
 * libFuzzer target for the checksum-file parser (tui/sums.c), and the
 * catalog parser on the same text: neither may crash or leak, and what
 * sums_parse accepts must hold up: every entry has a name without a
 * newline, a lower-case hex hash as long as its algorithm's, and
 * sums_find finds an entry with that name and algorithm.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sums_entry	*e, *f;
	struct sums		 sums;
	struct catalog		 cat;
	const char		*text = (const char *)data;
	char			 err[512];
	size_t			 i, j;

	if (sums_parse("SUMS", text, size, &sums, err, sizeof err) == 0) {
		for (i = 0; i < sums.n; i++) {
			e = &sums.v[i];
			if (e->name[0] == '\0' || strchr(e->name, '\n') != NULL ||
			    strlen(e->hash) != sums_alg_hexlen(e->alg))
				abort();
			for (j = 0; e->hash[j] != '\0'; j++)
				if (strchr("0123456789abcdef", e->hash[j]) ==
				    NULL)
					abort();
			f = sums_find(&sums, strncmp(e->name, "./", 2) == 0 ?
			    e->name + 2 : e->name, e->alg);
			if (f == NULL || f->alg != e->alg)
				abort();
		}
		sums_free(&sums);
	} else if (sums.n != 0 || strncmp(err, "SUMS line ", 10) != 0)
		abort();
	memset(&cat, 0, sizeof cat);
	if (catalog_parse("catalog", text, size, &cat, err, sizeof err) == 0) {
		for (i = 0; i < cat.n; i++)
			if (!catalog_valid_name(cat.v[i].name) ||
			    !catalog_valid_url(cat.v[i].url) ||
			    catalog_find(&cat, cat.v[i].name) != &cat.v[i])
				abort();
	}
	catalog_free(&cat);
	return 0;
}
