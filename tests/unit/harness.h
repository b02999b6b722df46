/* Tiny TAP test harness: meson runs the unit tests with protocol 'tap'. */
#ifndef IOTDNS_TEST_HARNESS_H
#define IOTDNS_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		++tap_n;                                                                          \
		if (cond) {                                                                       \
			printf("ok %d - %s\n", tap_n, #cond);                                     \
		} else {                                                                          \
			++tap_failed;                                                             \
			printf("not ok %d - %s (%s:%d)\n", tap_n, #cond, __FILE__, __LINE__);    \
		}                                                                                 \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                        \
	do {                                                                                      \
		long long _a = (long long)(a), _b = (long long)(b);                               \
		++tap_n;                                                                          \
		if (_a == _b) {                                                                   \
			printf("ok %d - %s == %s\n", tap_n, #a, #b);                              \
		} else {                                                                          \
			++tap_failed;                                                             \
			printf("not ok %d - %s == %s: %lld != %lld (%s:%d)\n", tap_n, #a, #b, _a, \
			       _b, __FILE__, __LINE__);                                           \
		}                                                                                 \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                        \
	do {                                                                                      \
		const char *_a = (a), *_b = (b);                                                  \
		++tap_n;                                                                          \
		if (_a && _b && strcmp(_a, _b) == 0) {                                            \
			printf("ok %d - %s == \"%s\"\n", tap_n, #a, _b);                          \
		} else {                                                                          \
			++tap_failed;                                                             \
			printf("not ok %d - %s: \"%s\" != \"%s\" (%s:%d)\n", tap_n, #a,           \
			       _a ? _a : "(null)", _b ? _b : "(null)", __FILE__, __LINE__);       \
		}                                                                                 \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
