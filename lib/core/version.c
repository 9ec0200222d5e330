/* Run-time version of the library. */
#include "internal.h"

unsigned swco_version(void) { return SWCO_VERSION_HEX; }

const char *swco_version_string(void) { return SWCO_VERSION_STRING; }
