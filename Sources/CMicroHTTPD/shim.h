// Typed wrappers for libmicrohttpd's variadic and union-returning functions,
// which Swift cannot call directly, and constructors for the option array.
//
// MHD_start_daemon is variadic: the one wrapper below passes every option
// through MHD_OPTION_ARRAY, built in Swift from the constructors here. Casting
// a function pointer to intptr_t (what the array's `value` field wants) is done
// here, in C, never in Swift.
#ifndef SETUPLINK_CMICROHTTPD_SHIM_H
#define SETUPLINK_CMICROHTTPD_SHIM_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>

/// An option taking an `unsigned int` (limits, timeouts, pool size).
static inline struct MHD_OptionItem setuplink_mhd_option_uint(enum MHD_OPTION option, unsigned int value) {
    struct MHD_OptionItem item = { option, (intptr_t) value, NULL };
    return item;
}

/// An option taking a `size_t` (memory limits).
static inline struct MHD_OptionItem setuplink_mhd_option_size(enum MHD_OPTION option, size_t value) {
    struct MHD_OptionItem item = { option, (intptr_t) value, NULL };
    return item;
}

/// An option taking an `int` or a socket.
static inline struct MHD_OptionItem setuplink_mhd_option_int(enum MHD_OPTION option, int value) {
    struct MHD_OptionItem item = { option, (intptr_t) value, NULL };
    return item;
}

/// An option taking one pointer (the PEM strings of MHD_OPTION_HTTPS_MEM_KEY / _CERT).
static inline struct MHD_OptionItem setuplink_mhd_option_pointer(enum MHD_OPTION option, const void *pointer) {
    struct MHD_OptionItem item = { option, 0, (void *) pointer };
    return item;
}

/// The terminator of an option array.
static inline struct MHD_OptionItem setuplink_mhd_option_end(void) {
    struct MHD_OptionItem item = { MHD_OPTION_END, 0, NULL };
    return item;
}

/// The request-completed callback: `void (*)(void *, struct MHD_Connection *, void **, enum MHD_RequestTerminationCode)`.
typedef void (*setuplink_mhd_completed_fn)(void *, struct MHD_Connection *, void **, enum MHD_RequestTerminationCode);

/// MHD_OPTION_NOTIFY_COMPLETED with its callback and context.
static inline struct MHD_OptionItem setuplink_mhd_option_completed(setuplink_mhd_completed_fn callback, void *cls) {
    struct MHD_OptionItem item = { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) callback, cls };
    return item;
}

/// The connection start/close callback.
typedef void (*setuplink_mhd_connection_fn)(void *, struct MHD_Connection *, void **, enum MHD_ConnectionNotificationCode);

/// MHD_OPTION_NOTIFY_CONNECTION with its callback and context.
static inline struct MHD_OptionItem setuplink_mhd_option_notify_connection(setuplink_mhd_connection_fn callback, void *cls) {
    struct MHD_OptionItem item = { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) callback, cls };
    return item;
}

/// An unescape callback that leaves the text as sent, so the URL path and the
/// query arguments reach Swift raw and are percent-decoded there, once.
static inline size_t setuplink_mhd_unescape_nothing(void *cls, struct MHD_Connection *connection, char *text) {
    (void) cls;
    (void) connection;
    return strlen(text);
}

/// MHD_OPTION_UNESCAPE_CALLBACK with the callback above.
static inline struct MHD_OptionItem setuplink_mhd_option_raw_urls(void) {
    struct MHD_OptionItem item = { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) &setuplink_mhd_unescape_nothing, NULL };
    return item;
}

/// Starts a daemon with every option in `options` (terminated by MHD_OPTION_END).
static inline struct MHD_Daemon *setuplink_mhd_start(unsigned int flags, uint16_t port,
                                                     MHD_AccessHandlerCallback handler, void *cls,
                                                     struct MHD_OptionItem *options) {
    return MHD_start_daemon(flags, port, NULL, NULL, handler, cls, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// The connection's socket, or -1.
static inline int setuplink_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

/// Writes the client's address as `1.2.3.4:port` or `[::1]:port` into `out`; returns 0, or -1 if unknown.
static inline int setuplink_mhd_client_address(struct MHD_Connection *connection, char *out, size_t size) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    char host[INET6_ADDRSTRLEN];
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *) address;
        if (inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host) == NULL) return -1;
        snprintf(out, size, "%s:%u", host, (unsigned) ntohs(v4->sin_port));
        return 0;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *) address;
        if (inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host) == NULL) return -1;
        snprintf(out, size, "[%s]:%u", host, (unsigned) ntohs(v6->sin6_port));
        return 0;
    }
    return -1;
}
#endif
