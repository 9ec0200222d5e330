# ---------------------------------------------------------------- websocket
# WebSocket servers and clients (swco/websocket.h).
libswco_la_SOURCES += lib/websocket/server.c

# ---- end of lib/websocket/local.mk
