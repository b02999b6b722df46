/* Fuzz target: fingerprint rules text through the parser, the validator and
 * the index builder (every error path must give "file:line: message"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/fingerprint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iotdns_fp_rules *rs;
	struct iotdns_err err = { "" };
	if (iotdns_fp_rules_new(&rs, &err) != IOTDNS_OK)
		return 0;
	char *text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = 0;
		if (iotdns_fp_rules_add_text(rs, "fuzz.rules", text, size, &err) == IOTDNS_OK)
			iotdns_fp_rules_finish(rs, &err);
		else if (strncmp(err.msg, "fuzz.rules:", 11) != 0)
			abort(); /* an error must name file and line */
		free(text);
	}
	iotdns_fp_rules_free(rs);
	return 0;
}
