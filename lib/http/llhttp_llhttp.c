/* llhttp's llhttp.c, from the system's copy (configure: SWCO_LLHTTP_LLHTTP_C),
 * compiled into the library.  Its code is llhttp's own; our warning flags
 * are for our code. */
#include "config.h"
#ifdef SWCO_LLHTTP_LLHTTP_C
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wmissing-declarations"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wconversion"
#include SWCO_LLHTTP_LLHTTP_C
#else
typedef int swco__llhttp_llhttp_unused;
#endif
