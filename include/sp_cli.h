/*
 * sp_cli.h — the subcommands of the `seinpost` command-line tool.
 * Each returns the process exit status (SP_EXIT_*, the table in
 * seinpost(1)). cfg_path is the --config FILE (NULL when not given).
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <jansson.h>
#include <stdint.h>
#include "sp_config.h"

/* Exit statuses of every command, as seinpost(1) EXIT STATUS lists them. */
enum {
	SP_EXIT_OK = 0,          /* done; the thing asked about is good */
	SP_EXIT_BAD = 1,         /* the thing asked about is bad, refused or unhealthy */
	SP_EXIT_USAGE = 2,       /* usage: unknown option, missing argument */
	SP_EXIT_UNREACHABLE = 3, /* cannot reach the daemon, or no verdict in time */
};

int sp_cli_keygen(int argc, char **argv);
int sp_cli_net(int argc, char **argv);
int sp_cli_policy(int argc, char **argv);
int sp_cli_pseudo(int argc, char **argv);
int sp_cli_submit(const char *cfg_path, int argc, char **argv);
int sp_cli_outbox(const char *cfg_path, int argc, char **argv);
int sp_cli_inbox(const char *cfg_path, int argc, char **argv);
int sp_cli_show(const char *cfg_path, int argc, char **argv);
int sp_cli_audit(const char *cfg_path, int argc, char **argv);
/* policy feature: sp_cli_policy_engine.c */
int sp_cli_involve(const char *cfg_path, int argc, char **argv);
int sp_cli_referrals(const char *cfg_path, int argc, char **argv);
/* audit verify (with tree heads), log filters, who-saw, report, export, witness */
int sp_cli_audit_ext(const char *cfg_path, int argc, char **argv);
/* 1 when cfg_path is a privacy-officer node (its audit log queries the broker). */
int sp_cli_audit_remote(const char *cfg_path);
int sp_cli_status(const char *cfg_path, int argc, char **argv);
/* oprf feature: sp_cli_pseudonym.c */
int sp_cli_pseudonym(const char *cfg_path, int argc, char **argv);
/* rotate: sp_cli_translate.c */
int sp_cli_translate(const char *cfg_path, int argc, char **argv);
/* rotate: sp_ceremony.c (the DKG and rotation between machines) */
int sp_cli_ceremony(const char *cfg_path, int argc, char **argv);
/* One pseudonym of a normalised identifier from the node's service
 * ([pseudonymiser] of cfg), for a look-up. */
int sp_cli_oprf_lookup(const sp_config *cfg, int kind, const char *norm, uint8_t out[32], char *why,
                       size_t whylen);
int sp_cli_spool(int argc, char **argv);   /* spool check: sp_cli_spool.c */
/* enrolment (docs/enrolment.md) */
int sp_cli_network(int argc, char **argv); /* network create: sp_cli_network.c */
int sp_cli_keys(int argc, char **argv);    /* keys rotate: sp_cli_keys.c (with keygen) */
int sp_cli_roster(int argc, char **argv);  /* roster add|remove|show: sp_cli_roster.c */
int sp_cli_nodeconf(int argc, char **argv); /* node config: sp_cli_nodeconf.c */
/* The example policy next to the binary or in the installed docs. 0 found. */
int sp_cli_find_policy(char *out, size_t outlen);
/* backup / restore of a store: sp_cli_backup.c */
int sp_cli_backup(const char *cfg_path, int argc, char **argv);
int sp_cli_restore(const char *cfg_path, int argc, char **argv);
int sp_cli_stats(const char *cfg_path, int argc, char **argv); /* sp_cli_stats.c */
int sp_cli_referral(const char *cfg_path, int argc, char **argv); /* sp_cli_referral.c */
int sp_cli_withdraw(const char *cfg_path, int argc, char **argv); /* sp_cli_withdraw.c */
int sp_cli_alarms(const char *cfg_path, int argc, char **argv); /* sp_cli_alarms.c */
/* keyed network -> pseudonymisation service: sp_cli_migrate.c */
int sp_cli_net_migrate(int argc, char **argv);
int sp_cli_pseudonym_migrate(const char *cfg_path, int argc, char **argv);

/* Shared by the subcommands: load the config or print why and return nonzero. */
struct sp_config;
int sp_cli_load_config(const char *cfg_path, struct sp_config *out);
/* One request/reply on a node's local socket (sp_cli_node.c). */
struct Seinpost__LocalRequest;
struct Seinpost__LocalReply;
int sp_cli_local_call(const struct sp_config *c, const struct Seinpost__LocalRequest *req,
                      struct Seinpost__LocalReply **out);
/* The exit status for a failed sp_cli_local_call: SP_EXIT_UNREACHABLE when
 * the node could not be reached or did not answer, else SP_EXIT_BAD. */
int sp_cli_call_exit(int rc);

/* --json output (docs/json.md): print v (indented) on stdout and release
 * it; SP_EXIT_OK, or SP_EXIT_BAD when out of memory or stdout fails. */
int sp_cli_print_json(json_t *v);
/* o[key] = the RFC 3339 UTC time of unix milliseconds ms ("..._at" keys). */
int sp_cli_json_time(json_t *o, const char *key, uint64_t ms);
/* A signed tree head: {tree_size, root_hash, signed_at}. */
json_t *sp_cli_tree_head_json(uint64_t size, const uint8_t root[32], uint64_t signed_ms);
/* An audit record: {seq, recorded_at, event, actor, user, recipient, signal,
 * subject, category, weight, tiers, rule, basis, reason, code}. */
struct Seinpost__AuditRecord;
json_t *sp_cli_audit_record_json(const struct Seinpost__AuditRecord *r);
/* The same record as one `audit log` text line on stdout. */
void sp_cli_audit_record_print(const struct Seinpost__AuditRecord *r);
/* The same with a reply timeout in ms (submit --wait keeps to its limit). */
int sp_cli_local_call_ms(const struct sp_config *c, const struct Seinpost__LocalRequest *req,
                         struct Seinpost__LocalReply **out, int timeout_ms);

#endif
