/* JSON escaping: hostile bytes never break the document. */
#include "harness.h"
#include "iotdns/json.h"

int main(void)
{
	char buf[256];
	iotdns_json_str_buf(buf, sizeof(buf), "plain.example.");
	CHECK_EQ_STR(buf, "\"plain.example.\"");
	iotdns_json_str_buf(buf, sizeof(buf), "a\"b\\c\n");
	CHECK_EQ_STR(buf, "\"a\\\"b\\\\c\\n\"");
	iotdns_json_str_buf(buf, sizeof(buf), "<script>alert(1)</script>");
	CHECK_EQ_STR(buf, "\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"");
	iotdns_json_str_buf(buf, sizeof(buf), "\x01\x1f\x7f");
	CHECK_EQ_STR(buf, "\"\\u0001\\u001f\\u007f\"");
	/* valid UTF-8 copied, invalid bytes escaped one by one */
	iotdns_json_str_buf(buf, sizeof(buf), "caf\xc3\xa9");
	CHECK_EQ_STR(buf, "\"caf\xc3\xa9\"");
	iotdns_json_str_buf(buf, sizeof(buf), "\xff\xc3(\xed\xa0\x80");
	CHECK_EQ_STR(buf, "\"\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\"");
	/* overlong encoding of '/' is invalid */
	iotdns_json_str_buf(buf, sizeof(buf), "\xc0\xaf");
	CHECK_EQ_STR(buf, "\"\\u00c0\\u00af\"");
	/* truncation never splits an escape and always closes the string */
	char small[12];
	size_t n = iotdns_json_str_buf(small, sizeof(small), "\x01\x01\x01");
	CHECK(n < sizeof(small));
	CHECK_EQ_STR(small, "\"\\u0001\"");
	iotdns_json_str_buf(buf, sizeof(buf), NULL);
	CHECK_EQ_STR(buf, "null");
	return tap_done();
}
