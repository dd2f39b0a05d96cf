// libedit's histedit API, used for the REPL's line editing, history and completion.
//
// `el_set`, `el_get` and `history` are variadic, which Swift cannot call, so
// each operation the REPL needs gets one typed `static inline` wrapper here.
// The wrappers add no behaviour: they return what libedit returns
// (0 on success, -1 on failure for el_set / el_get / history).
#ifndef SETUPLINK_CEDITLINE_SHIM_H
#define SETUPLINK_CEDITLINE_SHIM_H
#include <stdio.h>
#include <histedit.h>

/// The prompt callback: returns the prompt to show (libedit does not free it).
typedef char *(*setuplink_el_prompt_fn)(EditLine *);

/// A user editor function (see EL_ADDFN): returns one of the CC_* codes.
typedef unsigned char (*setuplink_el_user_fn)(EditLine *, int);

// MARK: - Standard streams

// `stdin`, `stdout` and `stderr` are mutable C globals, which Swift 6 refuses
// to read from nonisolated code; these return them without that diagnostic.

/// The C `stdin` stream.
static inline FILE *setuplink_stdin(void) { return stdin; }
/// The C `stdout` stream.
static inline FILE *setuplink_stdout(void) { return stdout; }
/// The C `stderr` stream.
static inline FILE *setuplink_stderr(void) { return stderr; }

// MARK: - EditLine settings

/// el_set(el, EL_PROMPT, fn): sets the function that yields the prompt.
static inline int setuplink_el_set_prompt(EditLine *el, setuplink_el_prompt_fn fn) {
    return el_set(el, EL_PROMPT, fn);
}

/// el_set(el, EL_EDITOR, mode): selects the key map, "emacs" or "vi".
static inline int setuplink_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

/// el_set(el, EL_SIGNAL, flag): lets libedit handle SIGWINCH, SIGINT and friends while reading.
static inline int setuplink_el_set_signal(EditLine *el, int flag) {
    return el_set(el, EL_SIGNAL, flag);
}

/// el_set(el, EL_BIND, key, function, NULL): binds a key sequence (e.g. "^I") to a named editor function.
static inline int setuplink_el_bind(EditLine *el, const char *key, const char *function) {
    return el_set(el, EL_BIND, key, function, (const char *)NULL);
}

/// el_set(el, EL_SETTY, "-d", mode, NULL): sets one terminal mode while editing, e.g. "-isig"
/// (so Ctrl-C reaches the key map as a character instead of raising SIGINT).
static inline int setuplink_el_setty_edit(EditLine *el, const char *mode) {
    return el_set(el, EL_SETTY, "-d", mode, (const char *)NULL);
}

/// el_set(el, EL_ADDFN, name, help, fn): registers a user editor function under `name`.
static inline int setuplink_el_add_function(EditLine *el, const char *name, const char *help,
                                            setuplink_el_user_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

/// el_set(el, EL_CLIENTDATA, data): stores an opaque pointer the callbacks can fetch.
static inline int setuplink_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

/// el_get(el, EL_CLIENTDATA, &data): the pointer stored with setuplink_el_set_clientdata, or NULL.
static inline void *setuplink_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) {
        return NULL;
    }
    return data;
}

/// el_get(el, EL_GETTC, "co", &columns, NULL): the terminal width libedit uses, or 80 when unknown.
static inline int setuplink_el_columns(EditLine *el) {
    int columns = 0;
    if (el_get(el, EL_GETTC, "co", &columns, (void *)NULL) != 0 || columns <= 0) {
        return 80;
    }
    return columns;
}

/// el_set(el, EL_HIST, history, h): attaches a history list, so up/down arrows walk it.
static inline int setuplink_el_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

// MARK: - History

/// history(h, &ev, H_SETSIZE, size): caps the number of entries kept.
static inline int setuplink_history_setsize(History *h, HistEvent *ev, int size) {
    return history(h, ev, H_SETSIZE, size);
}

/// history(h, &ev, H_SETUNIQUE, flag): when nonzero, a line equal to the previous one is not added again.
static inline int setuplink_history_setunique(History *h, HistEvent *ev, int flag) {
    return history(h, ev, H_SETUNIQUE, flag);
}

/// history(h, &ev, H_ENTER, line): adds a line as the newest entry.
static inline int setuplink_history_enter(History *h, HistEvent *ev, const char *line) {
    return history(h, ev, H_ENTER, line);
}

/// history(h, &ev, H_LOAD, path): appends the entries saved in `path`; returns the count or -1.
static inline int setuplink_history_load(History *h, HistEvent *ev, const char *path) {
    return history(h, ev, H_LOAD, path);
}

/// history(h, &ev, H_SAVE, path): writes all entries to `path`; returns the count or -1.
static inline int setuplink_history_save(History *h, HistEvent *ev, const char *path) {
    return history(h, ev, H_SAVE, path);
}

/// history(h, &ev, H_GETSIZE): the number of entries held.
static inline int setuplink_history_getsize(History *h, HistEvent *ev) {
    return history(h, ev, H_GETSIZE);
}

#endif
