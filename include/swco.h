/* libswco: Swoole's coroutine runtime for C.  Include this one header, or
 * the swco/<x>.h headers you use. */
#ifndef SWCO_H
#define SWCO_H

#include <swco/export.h>
#include <swco/types.h>
#include <swco/version.h>
#include <swco/error.h>
#include <swco/log.h>
#include <swco/coroutine.h>
#include <swco/reactor.h>
#include <swco/timer.h>
#include <swco/channel.h>
#include <swco/sync.h>
#include <swco/aio.h>
#include <swco/dns.h>
#include <swco/socket.h>
#include <swco/file.h>
#include <swco/exec.h>
#include <swco/ssl.h>
#include <swco/table.h>
#include <swco/atomic.h>
#include <swco/lock.h>
#include <swco/process.h>
#include <swco/pool.h>
#include <swco/curl.h>
#include <swco/http_client.h>
#include <swco/server.h>
#include <swco/http.h>
#include <swco/websocket.h>

#endif /* SWCO_H */
