// libedit's histedit API, used for the REPL's line editing, history and completion.
#ifndef SETUPLINK_CEDITLINE_SHIM_H
#define SETUPLINK_CEDITLINE_SHIM_H
#include <stdio.h>
#include <histedit.h>
#endif
