/* Placeholder: see lib/server/server_int.h for what this file owns. */
#include "server/server_int.h"

typedef int swco__server_options_placeholder;
