/*
 * sp_wire_int.h — helpers shared by the files of the sp_wire module
 * (sp_wire.c, sp_wire_oprf.c); nothing else includes it.
 */
#ifndef SP_WIRE_INT_H
#define SP_WIRE_INT_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Write the reason (no personal data) into why, return rc. */
int sp_wire_fail(char *why, size_t whylen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* True when m or a message inside it carries a field the schema lacks. */
int sp_wire_has_unknown(const ProtobufCMessage *m);

#endif
