/* iotdns - statistics shared by the randomization checks (placeholder: being written). */
#ifndef IOTDNS_CHECKS_RANDOMNESS_H
#define IOTDNS_CHECKS_RANDOMNESS_H
#endif
