/*
 * sp_cli.h — the subcommands of the `seinpost` command-line tool.
 * Each returns the process exit status: 0 ok, 1 failure, 2 usage error.
 * cfg_path is the --config FILE (NULL when not given).
 */
#ifndef SP_CLI_H
#define SP_CLI_H

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
int sp_cli_spool(int argc, char **argv);   /* spool check: sp_cli_spool.c */
/* enrolment (docs/enrolment.md) */
int sp_cli_network(int argc, char **argv); /* network create: sp_cli_network.c */
int sp_cli_keys(int argc, char **argv);    /* keys rotate: sp_cli_keys.c (with keygen) */
int sp_cli_roster(int argc, char **argv);  /* roster add|remove|show: sp_cli_roster.c */
int sp_cli_nodeconf(int argc, char **argv); /* node config: sp_cli_nodeconf.c */
/* The example policy next to the binary or in the installed docs. 0 found. */
int sp_cli_find_policy(char *out, size_t outlen);

/* Shared by the subcommands: load the config or print why and return nonzero. */
struct sp_config;
int sp_cli_load_config(const char *cfg_path, struct sp_config *out);
/* One request/reply on a node's local socket (sp_cli_node.c). */
struct Seinpost__LocalRequest;
struct Seinpost__LocalReply;
int sp_cli_local_call(const struct sp_config *c, const struct Seinpost__LocalRequest *req,
                      struct Seinpost__LocalReply **out);

#endif
