// Typed wrappers for what Swift cannot call or import from sqlite3.h.
#ifndef SETUPLINK_CSQLITE_SHIM_H
#define SETUPLINK_CSQLITE_SHIM_H
/// The pre-update hook (which the replica's state summary uses) is declared only with this
/// defined; Debian's libsqlite3 is built with it (`PRAGMA compile_options` lists ENABLE_PREUPDATE_HOOK).
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast of -1 to a function pointer; Swift cannot import it.
static inline int setuplink_sqlite3_bind_text_transient(sqlite3_stmt *s, int i, const char *text, int n) {
    return sqlite3_bind_text(s, i, text, n, SQLITE_TRANSIENT);
}
static inline int setuplink_sqlite3_bind_blob_transient(sqlite3_stmt *s, int i, const void *data, int n) {
    return sqlite3_bind_blob(s, i, data, n, SQLITE_TRANSIENT);
}
static inline void setuplink_sqlite3_result_blob_transient(sqlite3_context *c, const void *data, int n) {
    sqlite3_result_blob(c, data, n, SQLITE_TRANSIENT);
}
#endif
