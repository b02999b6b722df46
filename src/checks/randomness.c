/* iotdns - statistics shared by the randomization checks (placeholder: being written). */
#include "randomness.h"
