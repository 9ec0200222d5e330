/* placeholder: see http_int.h for what this file owns */
#include "http/http_int.h"

typedef int swco__http_response_placeholder;
