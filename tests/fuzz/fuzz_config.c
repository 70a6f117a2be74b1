/*
 * libFuzzer target for the vm.conf parser: the input is config text, parsed
 * with config_parse(text != NULL), errors to /dev/null, then freed. A text
 * that parses without errors must also survive a round trip: what
 * config_print writes parses without errors and prints the same again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Print a config into a new string. */
static char *
print_config(struct config *conf)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	config_print(conf, f);
	fclose(f);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE	*devnull;
	struct config	 conf, conf2;
	char		*text, *printed, *printed2;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	if (config_parse("fuzz.conf", text, &conf, devnull) == 0) {
		printed = print_config(&conf);
		if (config_parse("printed.conf", printed, &conf2, stderr) != 0)
			abort();
		printed2 = print_config(&conf2);
		if (strcmp(printed, printed2) != 0)
			abort();
		free(printed2);
		free(printed);
		config_free(&conf2);
	}
	config_free(&conf);

	free(text);
	return 0;
}
