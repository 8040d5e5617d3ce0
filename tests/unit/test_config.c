/* test_config.c — configuration: valid broker and node, strictness, paths. */
#include "sp_test.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sp_config.h"

static char tmp[256], path[512];

#define OPK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *broker_conf =
	"[seinpost]\n"                       /* 1 */
	"role = broker\n"                    /* 2 */
	"keys = keys\n"                      /* 3 */
	"state = /var/lib/seinpost\n"        /* 4 */
	"roster = roster.pb\n"               /* 5 */
	"operator_key = " OPK "\n"           /* 6 */
	"policy = ../policy.ini\n"           /* 7 */
	"\n"                                 /* 8 */
	"[broker]\n"                         /* 9 */
	"listen = tcp://127.0.0.1:7700\n";   /* 10 */

static const char *node_conf =
	"; a school node\n"
	"[seinpost]\n"
	"role = node\n"
	"org = school-bonnefanten\n"
	"keys = keys\n"
	"state = state\n"
	"roster = roster.pb\n"
	"operator_key = " OPK "\n"
	"policy = policy.ini\n"
	"pseudonym_key = pseudo.key\n"
	"log = stderr\n"
	"verbose = 1\n"
	"[broker]\n"
	"endpoint = tcp://broker.example:7700\n"
	"[limits]\n"
	"map_size_mb = 64\n"
	"max_frame_kb = 128\n"
	"heartbeat_ms = 1000\n"
	"retry_ms = 500\n"
	"max_clock_skew_s = 60\n";

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(tmp, sizeof tmp));
	snprintf(path, sizeof path, "%s/seinpost.conf", tmp);
}

static void teardown(void)
{
	sp_test_rmdir(tmp);
}

static int load_text(const char *text, sp_config *c, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return sp_config_load(path, c, err, errlen);
}

static void expect_error(const char *text, int line, const char *msg)
{
	sp_config c;
	char err[512], want[600];
	ck_assert_int_eq(load_text(text, &c, err, sizeof err), SP_ECONFIG);
	snprintf(want, sizeof want, "%s:%d: ", path, line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "want %s got %s", want, err);
	ck_assert_msg(strstr(err, msg) != NULL, "want '%s' in %s", msg, err);
	ck_assert_int_eq(c.role, 0);
}

/* The words of a list value (oprf_service, oprf_endpoint). */
START_TEST(list_words)
{
	char w[8];
	ck_assert_uint_eq(sp_config_words("  a bb  ccc "), 3);
	ck_assert_int_eq(sp_config_word("  a bb  ccc ", 1, w, sizeof w), SP_OK);
	ck_assert_str_eq(w, "bb");
	ck_assert_int_eq(sp_config_word("a bb ccc", 2, w, sizeof w), SP_OK);
	ck_assert_str_eq(w, "ccc");
	ck_assert_int_eq(sp_config_word("a bb ccc", 3, w, sizeof w), SP_ENOTFOUND);
	ck_assert_int_eq(sp_config_word("a 123456789", 1, w, sizeof w), SP_ESIZE);
	ck_assert_int_eq(sp_config_word("", 0, w, sizeof w), SP_ENOTFOUND);
}
END_TEST

START_TEST(valid_broker)
{
	sp_config c;
	char err[512], want[PATH_MAX + 64], real[PATH_MAX];
	ck_assert_msg(load_text(broker_conf, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_ptr_nonnull(realpath(tmp, real));
	ck_assert_int_eq(c.role, SP_RUN_BROKER);
	ck_assert_str_eq(c.org, "broker");
	ck_assert_str_eq(c.endpoint, "tcp://127.0.0.1:7700");
	ck_assert_str_eq(c.pseudo_key_path, "");
	snprintf(want, sizeof want, "%s/keys", real);
	ck_assert_str_eq(c.keys_dir, want);
	ck_assert_str_eq(c.state_dir, "/var/lib/seinpost");  /* absolute stays */
	snprintf(want, sizeof want, "%s/../policy.ini", real);
	ck_assert_str_eq(c.policy_path, want);
	ck_assert_uint_eq(c.operator_pk[0], 0x01);
	ck_assert_uint_eq(c.operator_pk[31], 0xef);
	/* defaults */
	ck_assert_uint_eq(c.map_size, 256ull << 20);
	ck_assert_uint_eq(c.max_frame, 256u << 10);
	ck_assert_uint_eq(c.heartbeat_ms, 2000);
	ck_assert_uint_eq(c.retry_ms, 2000);
	ck_assert_uint_eq(c.max_clock_skew_s, 300);
	ck_assert_str_eq(c.log, "auto");
	ck_assert_int_eq(c.verbose, 0);
}
END_TEST

START_TEST(valid_node)
{
	sp_config c;
	char err[512], sock[PATH_MAX], real[PATH_MAX], want[PATH_MAX + 64];
	ck_assert_msg(load_text(node_conf, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_ptr_nonnull(realpath(tmp, real));
	ck_assert_int_eq(c.role, SP_RUN_NODE);
	ck_assert_str_eq(c.org, "school-bonnefanten");
	ck_assert_str_eq(c.endpoint, "tcp://broker.example:7700");
	snprintf(want, sizeof want, "%s/pseudo.key", real);
	ck_assert_str_eq(c.pseudo_key_path, want);
	ck_assert_str_eq(c.log, "stderr");
	ck_assert_int_eq(c.verbose, 1);
	ck_assert_uint_eq(c.map_size, 64ull << 20);
	ck_assert_uint_eq(c.max_frame, 128u << 10);
	ck_assert_uint_eq(c.heartbeat_ms, 1000);
	ck_assert_uint_eq(c.retry_ms, 500);
	ck_assert_uint_eq(c.max_clock_skew_s, 60);
	ck_assert_int_eq(sp_config_submit_socket(&c, sock, sizeof sock), SP_OK);
	snprintf(want, sizeof want, "%s/state/submit.sock", real);
	ck_assert_str_eq(sock, want);
	ck_assert_int_eq(sp_config_submit_socket(&c, sock, 8), SP_ESIZE);
}
END_TEST

START_TEST(errors_with_lines)
{
	char text[4096];

	snprintf(text, sizeof text, "%scolour = blue\n", broker_conf);
	expect_error(text, 11, "unknown key 'colour' in [broker]");
	snprintf(text, sizeof text, "%s[extra]\nx = 1\n", broker_conf);
	expect_error(text, 11, "unknown section [extra]");
	snprintf(text, sizeof text, "%spseudonym_key = /etc/seinpost/pseudo.key\n", broker_conf);
	expect_error(text, 11, "unknown key");  /* in [broker]; now in [seinpost]: */
	snprintf(text, sizeof text, "[seinpost]\npseudonym_key = pseudo.key\n%s", broker_conf + 11);
	expect_error(text, 2, "the broker must never hold the pseudonymisation key");
	snprintf(text, sizeof text, "%sendpoint = tcp://x:1\n", broker_conf);
	expect_error(text, 11, "endpoint is where a node finds the broker");
	snprintf(text, sizeof text, "%slisten = tcp://127.0.0.1:7701\n", broker_conf);
	expect_error(text, 11, "given twice (first at line 10)");
	snprintf(text, sizeof text, "%s[limits]\nheartbeat_ms = 5\n", broker_conf);
	expect_error(text, 12, "heartbeat_ms");
	snprintf(text, sizeof text, "%s[limits]\nmap_size_mb = -1\n", broker_conf);
	expect_error(text, 12, "map_size_mb");
	snprintf(text, sizeof text, "%s[limits]\n", broker_conf);
	expect_error(text, 11, "empty section");
	snprintf(text, sizeof text, "%s  continued\n", broker_conf);
	expect_error(text, 11, "indented");
	snprintf(text, sizeof text, "%sgarbage\n", broker_conf);
	expect_error(text, 11, "syntax error");
	snprintf(text, sizeof text, "role = broker\n%s", broker_conf);
	expect_error(text, 1, "key outside a section");
	expect_error("[seinpost]\nrole = broker\noperator_key = abcd\n", 3, "64 hex");
	expect_error("[seinpost]\nrole = router\n", 2, "broker, node or pseudonymiser");
	expect_error("[seinpost]\nlog = syslog\n", 2, "auto, journal or stderr");
	expect_error("[seinpost]\norg = Bad Org\n", 2, "identifier");
	expect_error("[broker]\nlisten = http://x\n", 2, "ZeroMQ endpoint");
	expect_error("[seinpost]\nkeys = k\n", 2, "missing 'role'");
	/* Required per role, reported at the role line. */
	expect_error("[seinpost]\nrole = broker\nkeys = k\nstate = s\nroster = r\n"
	             "operator_key = " OPK "\npolicy = p\n", 2, "missing 'listen'");
	snprintf(text, sizeof text, "%s", node_conf);
	*strstr(text, "pseudonym_key") = ';';
	expect_error(text, 3, "missing 'pseudonym_key'");
	snprintf(text, sizeof text, "%s", node_conf);
	memcpy(strstr(text, "endpoint = "), "listen   = ", 11);
	expect_error(text, 14, "listen is the broker's own address");
}
END_TEST

/* The pseudonymisation service: its own [pseudonymiser] listen, an org,
 * and none of a node's keys; a node names the service completely or not. */
static const char *pseudo_conf =
	"[seinpost]\n"                       /* 1 */
	"role = pseudonymiser\n"             /* 2 */
	"org = pseudo-mh\n"                  /* 3 */
	"keys = keys\n"                      /* 4 */
	"state = state\n"                    /* 5 */
	"roster = roster.bin\n"              /* 6 */
	"operator_key = " OPK "\n"           /* 7 */
	"policy = policy.ini\n"              /* 8 */
	"[pseudonymiser]\n"                  /* 9 */
	"listen = tcp://127.0.0.1:7701\n";   /* 10 */

START_TEST(pseudonymiser_config)
{
	sp_config c;
	char err[512], text[2048];
	ck_assert_msg(load_text(pseudo_conf, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_int_eq(c.role, SP_RUN_PSEUDONYMISER);
	ck_assert_str_eq(c.oprf_endpoint, "tcp://127.0.0.1:7701");
	ck_assert_str_eq(sp_config_role_name(c.role), "pseudonymiser");
	/* it never holds the partners' key, nor talks to the broker */
	snprintf(text, sizeof text, "%s[seinpost]\npseudonym_key = p.key\n", pseudo_conf);
	expect_error(text, 12, "the broker must never hold");
	snprintf(text, sizeof text, "%s[broker]\nendpoint = tcp://x:1\n", pseudo_conf);
	expect_error(text, 12, "endpoint is where a node finds the broker");
	snprintf(text, sizeof text, "%s", pseudo_conf);
	*strstr(text, "org =") = ';';
	expect_error(text, 2, "missing 'org'");
	snprintf(text, sizeof text, "%s", pseudo_conf);
	*strstr(text, "[pseudonymiser]") = '\0';
	expect_error(text, 2, "missing 'listen'");
	/* a node with a complete [pseudonymiser] section */
	snprintf(text, sizeof text, "%s[pseudonymiser]\nendpoint = tcp://127.0.0.1:7701\n"
	         "service = pseudo-mh\nkey = " OPK "\ntimeout_ms = 800\n", node_conf);
	ck_assert_msg(load_text(text, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_str_eq(c.oprf_service, "pseudo-mh");
	ck_assert_uint_eq(c.oprf_timeout_ms, 800);
	ck_assert_uint_eq(c.oprf_pin[0], 0x01);
	/* ... and one without its key */
	snprintf(text, sizeof text, "%s[pseudonymiser]\nendpoint = tcp://127.0.0.1:7701\n"
	         "service = pseudo-mh\n", node_conf);
	expect_error(text, 3, "endpoint, service and key together");
	snprintf(text, sizeof text, "%s[pseudonymiser]\nlisten = tcp://127.0.0.1:7701\n", node_conf);
	expect_error(text, 22, "listen is the pseudonymiser's own address");
}
END_TEST

START_TEST(unreadable)
{
	sp_config c;
	char err[512];
	snprintf(path, sizeof path, "%s/absent.conf", tmp);
	ck_assert_int_eq(sp_config_load(path, &c, err, sizeof err), SP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "absent.conf:0: cannot read"));
}
END_TEST

/* No "state =": systemd's $STATE_DIRECTORY, else /var/lib/seinpost/NAME for a
 * configuration in a directory NAME (the shipped unit's layout). */
START_TEST(state_default)
{
	sp_config c;
	char err[512], text[1024], dir[300];
	char *st;

	snprintf(text, sizeof text, "%s", node_conf);
	st = strstr(text, "state = state\n");
	memset(st, ' ', strlen("state = state"));
	*st = ';';
	snprintf(dir, sizeof dir, "%s/school-bonnefanten", tmp);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/seinpost.conf", dir);
	unsetenv("STATE_DIRECTORY");
	ck_assert_msg(load_text(text, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_str_eq(c.state_dir, "/var/lib/seinpost/school-bonnefanten");
	setenv("STATE_DIRECTORY", "/var/lib/seinpost/x:/var/lib/other", 1);
	ck_assert_msg(load_text(text, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_str_eq(c.state_dir, "/var/lib/seinpost/x");
	/* Given in the file, the file wins. */
	ck_assert_msg(load_text(node_conf, &c, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_ptr_nonnull(strstr(c.state_dir, "/school-bonnefanten/state"));
	unsetenv("STATE_DIRECTORY");
	/* A directory name that is no identifier gives no default. */
	snprintf(dir, sizeof dir, "%s/Not An Id", tmp);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof path, "%s/seinpost.conf", dir);
	ck_assert_int_eq(load_text(text, &c, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "missing 'state'"));
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_broker);
	tcase_add_test(tc, valid_node);
	tcase_add_test(tc, errors_with_lines);
	tcase_add_test(tc, pseudonymiser_config);
	tcase_add_test(tc, unreadable);
	tcase_add_test(tc, state_default);
	tcase_add_test(tc, list_words);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(config_suite)
