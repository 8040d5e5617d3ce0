/*
 * seinpost — command-line tool: keys, test networks, submit, inbox, audit.
 *
 * One table holds every command: its words, its function, its synopsis and
 * its help. The dispatcher finds the entry, answers --help for it (on
 * stdout, exit 0) before the command parses anything, and otherwise calls it
 * with argv starting at the command's first word. A new command is one line
 * in commands[] (and its section in docs/seinpost.1, which a test checks
 * against `seinpost help`).
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "sp_cli.h"
#include "sp_log.h"

#define SEINPOST_VERSION "0.1.0"

typedef int (*cmd_fn)(const char *cfg, int argc, char **argv);

enum group { SETUP, NODE, ANY };

struct cmd {
	enum group group;     /* the heading it is listed under */
	const char *name;     /* the words as typed: "audit verify" */
	cmd_fn run;           /* called with argv from the first word on */
	const char *args;     /* synopsis after the name */
	const char *what;     /* one line for the overview */
	const char *help;     /* more for --help, or NULL */
};

/* Commands that take no --config. */
#define NOCFG(f) \
	static int f##_(const char *cfg, int argc, char **argv) { (void)cfg; return f(argc, argv); }
NOCFG(sp_cli_keygen)
NOCFG(sp_cli_network)
NOCFG(sp_cli_keys)
NOCFG(sp_cli_roster)
NOCFG(sp_cli_nodeconf)
NOCFG(sp_cli_net)
NOCFG(sp_cli_policy)
NOCFG(sp_cli_pseudo)
NOCFG(sp_cli_spool)

static const char *const groups[] = {
	[SETUP] = "Network set-up (no --config)",
	[NODE] = "With --config FILE of a node",
	[ANY] = "With --config FILE of a broker or node",
};

static const struct cmd commands[] = {
	{ SETUP, "network create", sp_cli_network_, "DIR --name NAME [--listen EP] [--policy FILE] [--state DIR]\n"
	  "         [--pseudonymisers N [--threshold T]] [--oprf-port P]",
	  "operator: start a network (keys, empty signed roster, broker config)",
	  "Writes the operator's signing key (kept apart from the broker's), the broker's keys and\n"
	  "configuration, a policy and an empty roster signed by the operator. docs/enrolment.md.\n"
	  "--pseudonymisers: also the pseudonymisation service, enrolled (docs/pseudonymiser.md)." },
	{ SETUP, "keygen", sp_cli_keygen_, "DIR (--org ID --role ROLE | --broker) [--force] [--json]",
	  "an organisation's keys (0600) and DIR/enrol.json",
	  "Writes curve, sign and (not for a broker) box keypairs into DIR, secrets 0600, and\n"
	  "DIR/enrol.json (public keys, id and role, signed by the new sign key) to hand to the\n"
	  "network operator. Refuses to overwrite existing keys unless --force.\n"
	  "--json prints {\"dir\", \"broker\", \"curve_public\", \"sign_public\", \"box_public\"}." },
	{ SETUP, "roster add", sp_cli_roster_, "ROSTER ENROL.JSON [--operator DIR]",
	  "enrol an organisation, or take its rotated keys (re-signs the roster)",
	  "Checks enrol.json's signature (and, for rotated keys, the old key's), adds it and re-signs\n"
	  "with the operator key (default: the directory of ROSTER). Reload the broker (SIGHUP)." },
	{ SETUP, "roster remove", sp_cli_roster_, "ROSTER ID --reason TEXT [--operator DIR]",
	  "revoke an organisation (refused at its next message)",
	  "The reason is kept in the audit log: no personal data." },
	{ SETUP, "roster show", sp_cli_roster_, "ROSTER [--json] [--operator-key FILE]",
	  "verify the roster with the operator key and list it", NULL },
	{ SETUP, "node config", sp_cli_nodeconf_,
	  "DIR --network ROSTER --broker tcp://HOST:PORT [--keys DIR] [--org ID] [--state DIR]\n"
	  "         [--policy FILE] [--pseudonym-key FILE] [--operator-key FILE] [--pseudonymiser EPS]",
	  "write an organisation's production configuration",
	  "Writes DIR/seinpost.conf with copies of the roster, policy and pseudonymisation key.\n"
	  "Keys default to DIR/keys, the organisation id to the one in its enrol.json, state to\n"
	  "/var/lib/seinpost/<org>, and operator.pub, policy.ini and partners/pseudo.key to the files\n"
	  "next to ROSTER." },
	{ SETUP, "keys rotate", sp_cli_keys_, "DIR [--overlap S] | DIR --broker --roster ROSTER [--operator DIR]",
	  "new keys without loss; a new enrol.json for the operator",
	  "An organisation: new curve, sign and box keys in DIR, the old ones under DIR/old/<n>/ (the\n"
	  "node keeps opening deliveries sealed to them), and a new enrol.json signed by the new and the\n"
	  "old sign key for `roster add`. The running node switches when the roster names the new keys.\n"
	  "--broker: a new broker sign key and a transition record signed by both in ROSTER." },
	{ SETUP, "net init", sp_cli_net_, "DIR [--org ROLE:ID]... [--port N] [--policy FILE] [--network NAME]\n"
	  "         [--pseudonymisers N [--threshold T]] [--oprf-port P]",
	  "create a complete local test network",
	  "--pseudonymisers 1 adds the oblivious pseudonymisation service (DIR/pseudo-mh, port P\n"
	  "or the broker's + 1); N > 1 with --threshold T: T-of-N instances pseudo-mh-1..N on\n"
	  "ports P..P+N-1 with shares from a DKG run locally (a local network only). Every node\n"
	  "pins the service's key (docs/pseudonymiser.md)." },
	{ SETUP, "net migrate", sp_cli_net_, "DIR --pseudonymisers N [--threshold T] [--oprf-port P]",
	  "move a keyed local network (pseudo.key) to the pseudonymisation service",
	  "With the network stopped: the service enrolled (a new key epoch), every node's\n"
	  "[pseudonymiser] section and roster, every pseudo.key wiped and removed. Signals and\n"
	  "involvements under the old epoch keep matching until they expire; each node then\n"
	  "re-registers its involvements from its own records (involve --file). A real network:\n"
	  "pseudonym migrate on each node. docs/pseudonymiser.md, Migration." },
	{ SETUP, "net rotate", sp_cli_net_, "DIR", "rotate a local network's t-of-n pseudonymisation key",
	  "Rotation by translation for a network made by `net init --pseudonymisers N --threshold T`:\n"
	  "new shares s_i' = delta*s_i + a sharing of zero, the roster's rotation record (d = delta*G and\n"
	  "its proof), and DIR/broker/translation-E.bin (0600) for `pseudonym translate`. Stop the\n"
	  "instances first; this one process sees every share (a local network only)." },
	{ SETUP, "ceremony commit", sp_cli_ceremony, "ROSTER DEALS (--peers DIR | --rotation FILE)",
	  "operator: a DKG's commitments or a rotation onto the roster",
	  "After the instances' `ceremony deal` and `ceremony combine` (docs/pseudonymiser.md,\n"
	  "\"Between machines\"): every deal's signature and session checked; --peers DIR (the\n"
	  "instances' enrol.json as 1.json..N.json): the summed Feldman commitments, then `roster add`\n"
	  "each instance's new enrol.json; --rotation FILE (an instance's rotation-E.bin): its proofs\n"
	  "checked, the sharings of zero added, the rotation record appended. Re-signs ROSTER." },
	{ SETUP, "policy check", sp_cli_policy_, "FILE [--json]", "validate a sharing policy, print who may see what",
	  "Line-numbered errors (exit 1), or the version, hash and the table of who may see what.\n"
	  "--json prints {\"file\", \"ok\", \"version\", \"hash\", \"categories\", \"error\"}." },
	{ SETUP, "pseudo rotate", sp_cli_pseudo_, "FILE", "add a new epoch to a pseudonymisation key file",
	  "Copy the file to every partner node afterwards (never to the broker)." },
	{ SETUP, "spool check", sp_cli_spool_, "[--policy FILE] [--json] FILE...",
	  "check spool files as a node would (docs/spool.md)",
	  "JSON, fields, BSN elfproef, weight, dates, sizes, text; with --policy also the category.\n"
	  "Prints every problem (never a value from the file); exit 1 when any file is refused." },
	{ NODE, "submit", sp_cli_submit,
	  "--category C [--weight 1|2|3] (--bsn BSN | --kvk NUMBER | --bag ID) [--name NAME]\n"
	  "         [--birthdate YYYY-MM-DD] [--address ADDRESS] [--summary TEXT] [--contact TEXT]\n"
	  "         [--narrative TEXT] [--wait[=SECONDS]] [--idempotency-key KEY] [--resident-report] [--json]",
	  "submit a signal; prints its id once it is durable",
	  "--wait also waits for the broker's verdict (exit 1 when rejected, 3 when none came).\n"
	  "--idempotency-key: a submit with a KEY this node has seen before stores and sends\n"
	  "       nothing and prints the first signal's id (safe retries; at most 128 characters).\n"
	  "--json prints one object: {\"id\", \"state\": stored|accepted|rejected|pending|error,\n"
	  "       \"reason\"}, also for a refused submit (then without id, exit 1).\n"
	  "--resident-report: an anonymous report by a resident (Meld Misdaad Anoniem), by a role the\n"
	  "       policy's resident_reports names (default: the municipality). About a place (--bag) or a\n"
	  "       business (--kvk), never a person; with no subject it counts only in the figures." },
	{ NODE, "outbox", sp_cli_outbox, "[--json]", "signals we sent and the broker's verdict", NULL },
	{ NODE, "inbox", sp_cli_inbox, "[--json]", "signals we received (nothing is decrypted)", NULL },
	{ NODE, "withdraw", sp_cli_withdraw, "ID --reason TEXT [--user NAME]",
	  "withdraw a signal we sent: recipients delete their copies (audited)",
	  "Only the organisation that sent a signal may withdraw it. Delivered keys cannot be recalled: the\n"
	  "broker drops the grants it holds and never releases them, each recipient's node deletes its copy and\n"
	  "refuses to open it, and a referral the signal alone carried is closed. The reason is kept in the audit\n"
	  "log: no personal data. Exit 0 withdrawn, 1 refused, 2 usage, 3 no verdict. docs/casework.md." },
	{ NODE, "show", sp_cli_show, "ID --user NAME [--json]", "verify and decrypt what we were granted (audited)",
	  "--user names who opens the signal; the read is audited before anything is shown.\n"
	  "Exit 1 when a field the sender sealed is not acceptable text (it is withheld)." },
	{ NODE, "involve", sp_cli_involve, "((--bsn BSN | --kvk NUMBER | --bag ID) [--until YYYY-MM-DD] [--ref REF] | --file FILE [--quiet]) [--json]",
	  "register our involvement with a subject (REF stays local)",
	  "Registers this organisation's involvement with a subject at the broker, under a\n"
	  "pseudonym. REF (e.g. a pupil number) and the BSN stay on this node; inbox and show\n"
	  "display REF. --until defaults to one year from today.\n"
	  "--file registers many: one BSN[,REF[,YYYY-MM-DD]] per line ('#' comments and blank\n"
	  "lines skipped); every line is checked first and a bad line registers nothing.\n"
	  "Progress goes to stderr when it is a terminal, unless --quiet." },
	{ NODE, "uninvolve", sp_cli_involve, "(--bsn BSN | --kvk NUMBER | --bag ID) [--json]", "end an involvement", NULL },
	{ NODE, "referrals", sp_cli_referrals, "[--json]", "escalation referrals received (ZVH)", NULL },
	{ NODE, "referral status", sp_cli_referral,
	  "ID accepted|in-progress|intervention TYPE|declined|scaled-down|closed --reason TEXT [--user NAME]",
	  "the coordinator records what happens with a referral",
	  "Only the coordinator of the referral (the role its escalation rule names) may set it; TYPE comes\n"
	  "from the policy's `interventions`. The reason is kept in the broker's audit log: no personal data\n"
	  "(numbers of 8 or more digits are refused). The signallers learn the status, never the reason.\n"
	  "Exit status: 0 recorded, 1 refused, 2 usage, 3 the broker gave no verdict. docs/casework.md." },
	{ NODE, "referral move", sp_cli_referral, "ID TABLE --reason TEXT [--user NAME]",
	  "the coordinator moves a referral to another table (op- en afschalen)",
	  "TABLE is one of the policy's [table]s on the referral's ladder. Up (along `next`): the new table's\n"
	  "members receive the grants sealed for their role at submit, up to their tier. Down: roles no longer\n"
	  "at the table get nothing further (grants already delivered cannot be recalled). A table with\n"
	  "requires_reason = facts (the MOT) needs --reason 'facts: WHAT'. Every move is audited (who, when,\n"
	  "reason, from and to) and told to the signallers as a `table` event. status scaled-down moves one\n"
	  "table down. Exit status: 0 moved, 1 refused, 2 usage, 3 no verdict. docs/casework.md." },
	{ NODE, "pseudonym", sp_cli_pseudonym, "[--kind person|business|location] [--batch N] (--file FILE | ID...)",
	  "network pseudonyms from the pseudonymisation service",
	  "One pseudonym (64 hex) per identifier, in input order; identifiers are blinded before\n"
	  "they leave this process and counted against the organisation's daily limit.\n"
	  "Exit 1 refused or a key/proof alarm, 2 usage or a malformed identifier, 3 no answer." },
	{ NODE, "alarms", sp_cli_alarms, "[--json] | --ack --user NAME",
	  "the pseudonymisation service's alarms (privacy officer)",
	  "The alarms the privacy officer's node took from every pseudonymisation service instance it\n"
	  "names (rate-limit refusals, requests whose signature failed), each with its instance, number\n"
	  "and time, and each instance's feed (alarms taken, last verified answer, whether it holds).\n"
	  "No personal data: organisation, role, counts, time. `status` is unhealthy while one is kept\n"
	  "that was not acknowledged; --ack --user NAME acknowledges every alarm kept now (audited).\n"
	  "docs/pseudonymiser.md." },
	{ NODE, "pseudonym migrate", sp_cli_pseudonym_migrate, "--network ROSTER --pseudonymiser EPS",
	  "this node's part of the move to the pseudonymisation service",
	  "With the node stopped: ROSTER (the network's roster with the service, checked against the\n"
	  "operator key) becomes the node's roster, its [pseudonymiser] section pins the service's key\n"
	  "from it (EPS: one endpoint per instance), the pseudonym_key line goes and pseudo.key is\n"
	  "wiped and removed. Then start the node and re-register involvements (involve --file).\n"
	  "docs/pseudonymiser.md, Migration." },
	{ ANY, "ceremony deal", sp_cli_ceremony, "OUT [--peers DIR --threshold T]",
	  "pseudonymiser: deal a DKG (--peers) or rotation round as a signed file",
	  "With a pseudonymiser's configuration, on its own machine: OUT/deal-I.bin holds its Feldman\n"
	  "commitments and every instance's sub-share sealed to that instance's CURVE key (a rotation:\n"
	  "a sharing of zero and a random delta_i, also sealed to the broker), signed by this instance.\n"
	  "--peers DIR --threshold T: key generation among DIR/1.json..N.json (enrol.json files);\n"
	  "without: a rotation among the roster's instances. Send the file to all; docs/pseudonymiser.md." },
	{ ANY, "ceremony combine", sp_cli_ceremony, "DEALS [OUT] [--peers DIR]",
	  "pseudonymiser: check every deal, keep this instance's (new) share",
	  "Every deal in DEALS checked (signature, session, sub-share against its dealer's commitments;\n"
	  "a failure names the dealer and writes nothing). Key generation: KEYS/oprf.key and a new\n"
	  "KEYS/enrol.json for `roster add`. Rotation: the new share, and in OUT (default DEALS)\n"
	  "rotation-E.bin for `ceremony commit` and translation-E.bin (delta sealed to the broker)." },
	{ ANY, "pseudonym translate", sp_cli_translate, "FILE",
	  "broker: re-key every stored pseudonym after a key rotation",
	  "FILE is the rotation ceremony's translation file (0600). With the broker stopped, one\n"
	  "transaction re-keys involvements, indexed signals, escalation windows and referrals\n"
	  "(P' = delta*P), stores delta sealed under KEYS/translate.key and audits the translation.\n"
	  "docs/pseudonymiser.md." },
	{ ANY, "audit verify", sp_cli_audit, "[--json]", "check records, hash chain and signed tree heads",
	  "Exit 0 intact, 1 broken (the first bad record or head is named)." },
	{ ANY, "audit log", sp_cli_audit,
	  "[--since T] [--until T] [--org O] [--signal ID] [--json] [--local]",
	  "list audit records (privacy officer: the broker's)",
	  "T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix milliseconds." },
	{ ANY, "audit who-saw", sp_cli_audit, "(--bsn BSN | --kvk NUMBER | --bag ID | --pseudonym HEX) [--json]",
	  "every disclosure and read about a person (privacy officer)", NULL },
	{ ANY, "audit report", sp_cli_audit, "--bsn BSN --format html|json [--lang nl|en]", "AVG art. 15 subject access report", NULL },
	{ ANY, "audit export", sp_cli_audit, "--json", "records, leaf hashes, signed heads for independent checks", NULL },
	{ ANY, "audit witness", sp_cli_audit, "[--json]", "the broker history this node witnessed (exit 1: alarm)", NULL },
	{ ANY, "status", sp_cli_status, "[--json | --prometheus] [--max-age SECONDS] [--broker-limit SECONDS] [--timeout SECONDS]",
	  "queues, outbox, oldest undelivered, last commit; exit 1 when unhealthy", NULL },
	{ ANY, "stats", sp_cli_stats, "[--period month|quarter] [--year YYYY] [--by category,weight,role,source] [--json|--csv|--svg FILE]",
	  "trend figures per complete period, small cells hidden (broker)",
	  "On the broker's configuration: signals submitted per complete calendar month or quarter, from\n"
	  "its metadata only; counts below the policy's stats_min_cell (default 5) and any count that\n"
	  "could be worked out from a total are hidden. Never a pseudonym, signal id or organisation id.\n"
	  "docs/stats.md." },
	{ ANY, "backup", sp_cli_backup, "[--state DIR] DEST",
	  "verified copy of the (live) store into new directory DEST",
	  "mdb_copy -c of the store at one committed transaction, then checked (audit chain,\n"
	  "store layout version) before it is reported done. See docs/operations.md." },
	{ ANY, "restore", sp_cli_restore, "[--state DIR] SRC",
	  "check backup SRC and make it the (stopped) daemon's store", NULL },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	int g = -1;
	size_t width = 0; /* names in one column, at least three spaces before the text */
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) > width)
			width = strlen(commands[i].name);
	fprintf(out, "usage: seinpost [--config FILE] COMMAND [ARGS]\n"
	             "       seinpost COMMAND --help | seinpost help [COMMAND] | seinpost --version\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if ((int)commands[i].group != g) {
			g = (int)commands[i].group;
			fprintf(out, "\n%s:\n", groups[g]);
		}
		fprintf(out, "  %-*s   %s\n", (int)width, commands[i].name, commands[i].what);
	}
	fprintf(out, "\nExit status: 0 ok; 1 the thing asked about is bad or unhealthy; 2 usage;\n"
	             "3 cannot reach the daemon, or no verdict in time.\n"
	             "See seinpost(1), seinpostd(8), seinpost.conf(5), seinpost-policy(5).\n");
}

static void cmd_help(const struct cmd *c, FILE *out)
{
	fprintf(out, "usage: seinpost %s%s %s\n%s.\n", c->group != SETUP ? "--config FILE " : "", c->name, c->args,
	        c->what);
	if (c->help)
		fprintf(out, "%s\n", c->help);
}

/* How many words of argv (from 0) name command c: 0 when it does not match. */
static int matches(const struct cmd *c, int argc, char **argv)
{
	const char *p = c->name;
	int w = 0;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (w >= argc || strlen(argv[w]) != n || strncmp(argv[w], p, n) != 0)
			return 0;
		w++;
		p += n;
		p += *p == ' ';
	}
	return w;
}

/* Commands whose first word is argv[0] ("audit" lists the audit commands). */
static int list_group(const char *word, FILE *out)
{
	int n = 0;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strncmp(commands[i].name, word, strlen(word)) == 0 && commands[i].name[strlen(word)] == ' ') {
			if (!n++)
				fprintf(out, "usage:\n");
			fprintf(out, "  seinpost %s%s %s\n", commands[i].group != SETUP ? "--config FILE " : "",
			        commands[i].name, commands[i].args);
		}
	return n;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* The options a command takes are the ones its synopsis names: an argument
 * "--name" or "--name=value" whose name is not there is a usage error, the
 * same for every command, before the command reads a file or the config. */
static const char *unknown_option(const struct cmd *c, int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *p = c->args;
		size_t n;
		if (a[0] != '-' || a[1] != '-' || !((a[2] >= 'a' && a[2] <= 'z')))
			continue;
		n = strcspn(a, "=");
		for (;; p++) {
			if (!*p)
				return a;
			if (strncmp(p, a, n) == 0 &&
			    (p == c->args || p[-1] == ' ' || p[-1] == '[' || p[-1] == '(' || p[-1] == '|') &&
			    !((p[n] >= 'a' && p[n] <= 'z') || p[n] == '-'))
				break;
		}
	}
	return NULL;
}

static const struct cmd *find(int argc, char **argv, int *words)
{
	const struct cmd *best = NULL;
	*words = 0;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int w = matches(&commands[i], argc, argv);
		if (w > *words) {
			*words = w;
			best = &commands[i];
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *cfg = NULL;
	const struct cmd *c;
	int i = 1, words;

	if (sodium_init() < 0) {
		fprintf(stderr, "seinpost: libsodium failed to initialise\n");
		return SP_EXIT_BAD;
	}
	sp_log_init("seinpost", 0, 0);
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
			cfg = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cfg = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return SP_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("seinpost " SEINPOST_VERSION);
			return SP_EXIT_OK;
		} else {
			fprintf(stderr, "seinpost: unknown option %s\n", argv[i]);
			usage(stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SP_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return SP_EXIT_OK;
		}
		if ((c = find(argc - i - 1, argv + i + 1, &words)) && i + 1 + words == argc) {
			cmd_help(c, stdout);
			return SP_EXIT_OK;
		}
		if (i + 2 == argc && list_group(argv[i + 1], stdout))
			return SP_EXIT_OK;
		fprintf(stderr, "seinpost help: no command '%s'\n", argv[i + 1]);
		return SP_EXIT_USAGE;
	}
	c = find(argc - i, argv + i, &words);
	if (!c) {
		/* A group word alone ("audit"), or with --help, lists its commands. */
		int help = wants_help(argc - i - 1, argv + i + 1);
		FILE *out = help ? stdout : stderr;
		if (list_group(argv[i], out)) {
			if (!help && i + 1 < argc)
				fprintf(stderr, "seinpost: unknown command '%s %s'\n", argv[i], argv[i + 1]);
			return help ? SP_EXIT_OK : SP_EXIT_USAGE;
		}
		fprintf(stderr, "seinpost: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return SP_EXIT_USAGE;
	}
	if (wants_help(argc - i - words, argv + i + words)) {
		cmd_help(c, stdout);
		return SP_EXIT_OK;
	}
	const char *bad = unknown_option(c, argc - i - words, argv + i + words);
	if (bad) {
		fprintf(stderr, "seinpost %s: unknown option %.*s\n", c->name, (int)strcspn(bad, "="), bad);
		cmd_help(c, stderr);
		return SP_EXIT_USAGE;
	}
	return c->run(cfg, argc - i, argv + i);
}
