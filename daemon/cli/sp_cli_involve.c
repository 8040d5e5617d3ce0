/*
 * sp_cli_involve.c — `seinpost involve` / `uninvolve`: one involvement, or a
 * whole file of them (a school's roster).
 *
 * involve --file checks every line here first (line-numbered errors, never
 * the BSN; nothing is sent when a line is bad), then sends the lines to the
 * node in batches that fit one local request (SP_MAX_LOCAL_REQUEST bytes
 * and SP_INVOLVE_BATCH_MAX items): batching by bytes, because a line with a
 * reference and a date is three times the size of a bare BSN. The node
 * checks again, stores each batch in one transaction and tells the broker.
 * On a terminal (and without --quiet) progress goes to stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <jansson.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_involve.h"
#include "sp_util.h"
#include "sp_wire.h"

/* Room left in a request for its envelope (oneof tag, first_line). */
#define REQUEST_SLACK 64
#define PROGRESS_EVERY_MS 250

struct progress {
	int on;
	uint64_t t0, last;
	size_t total;
};

static void progress_show(struct progress *p, size_t checked, size_t registered, int final)
{
	uint64_t now = sp_mono_ms();
	if (!p->on || (!final && now - p->last < PROGRESS_EVERY_MS))
		return;
	p->last = now;
	double s = (double)(now - p->t0) / 1000.0;
	if (registered == 0 && !final) {
		fprintf(stderr, "\rinvolve: %zu lines checked", checked);
	} else {
		double rate = s > 0 ? (double)registered / s : 0;
		fprintf(stderr, "\rinvolve: %zu lines checked, %zu of %zu registered, %.0f/s", checked, registered,
		        p->total, rate);
		if (!final && rate > 0)
			fprintf(stderr, ", ETA %.0f s", (double)(p->total - registered) / rate);
	}
	fputs(final ? "          \n" : "          ", stderr);
	fflush(stderr);
}

/* Bytes one item adds to an InvolveBatchRequest: the item as an embedded
 * message (tag + length + body) and its line number (packed varint). */
static size_t item_cost(const Seinpost__InvolveRequest *it)
{
	size_t body = seinpost__involve_request__get_packed_size(it);
	return 1 + 5 + body + 5;
}

struct file_result {
	size_t lines, items, bad, registered;
	json_t *refused; /* [{line, reason}] for --json */
	char error[256];
};

static int involve_file(const sp_config *cfg, const char *path, int quiet, struct file_result *res)
{
	uint8_t *text = NULL;
	size_t len, nlines = 0, nitems = 0, sent = 0;
	Seinpost__InvolveRequest *items = NULL, **ptrs = NULL;
	uint32_t *lines = NULL;
	struct progress pg = { .on = !quiet && isatty(STDERR_FILENO), .t0 = sp_mono_ms() };
	int rc = SP_EXIT_BAD;

	if (sp_file_read(path, (size_t)1 << 30, &text, &len) != SP_OK) {
		snprintf(res->error, sizeof res->error, "cannot read %s", path);
		fprintf(stderr, "seinpost involve: %s\n", res->error);
		return SP_EXIT_BAD;
	}
	for (size_t i = 0; i < len; i++)
		nlines += text[i] == '\n';
	nlines++;
	items = calloc(nlines, sizeof *items);
	ptrs = calloc(nlines, sizeof *ptrs);
	lines = calloc(nlines, sizeof *lines);
	if (!items || !ptrs || !lines) {
		snprintf(res->error, sizeof res->error, "out of memory");
		fprintf(stderr, "seinpost involve: out of memory\n");
		goto out;
	}
	char *p = (char *)text, *end = (char *)text + len;
	for (uint32_t line = 1; p < end; line++) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), msg[200];
		if (nl)
			*nl = '\0'; /* the last line ends at the NUL sp_file_read adds */
		int r = sp_involve_parse_line(p, &items[nitems], msg, sizeof msg);
		res->lines = line;
		if (r < 0) {
			if (res->bad++ < 20)
				fprintf(stderr, "%sseinpost involve: %s:%u: %s\n", pg.on ? "\n" : "", path, line, msg);
			if (res->refused && res->bad <= 1000)
				json_array_append_new(res->refused, json_pack("{s:i,s:s}", "line", (int)line, "reason", msg));
		} else if (r == 0) {
			lines[nitems] = line;
			ptrs[nitems] = &items[nitems];
			nitems++;
		}
		if ((line & 4095) == 0)
			progress_show(&pg, line, 0, 0);
		if (!nl)
			break;
		p = nl + 1;
	}
	res->items = nitems;
	pg.total = nitems;
	if (res->bad) {
		if (pg.on)
			fputc('\n', stderr);
		snprintf(res->error, sizeof res->error, "%zu line%s refused; nothing was registered", res->bad,
		         res->bad == 1 ? "" : "s");
		fprintf(stderr, "seinpost involve: %s\n", res->error);
		goto out;
	}
	if (!nitems) {
		snprintf(res->error, sizeof res->error, "%s holds no involvements", path);
		fprintf(stderr, "seinpost involve: %s\n", res->error);
		goto out;
	}
	while (sent < nitems) {
		Seinpost__InvolveBatchRequest b = SEINPOST__INVOLVE_BATCH_REQUEST__INIT;
		Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
		Seinpost__LocalReply *r = NULL;
		size_t n = 0, bytes = REQUEST_SLACK;
		while (sent + n < nitems && n < SP_INVOLVE_BATCH_MAX) {
			size_t c = item_cost(ptrs[sent + n]);
			if (bytes + c > SP_MAX_LOCAL_REQUEST)
				break;
			bytes += c;
			n++;
		}
		if (n == 0) { /* cannot happen: a line is at most a few hundred bytes */
			snprintf(res->error, sizeof res->error, "line %u does not fit a request", lines[sent]);
			goto partial;
		}
		b.n_items = n;
		b.items = ptrs + sent;
		b.n_lines = n;
		b.lines = lines + sent;
		b.first_line = lines[sent];
		req.body_case = SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH;
		req.involve_batch = &b;
		int crc = sp_cli_local_call(cfg, &req, &r);
		if (crc != SP_OK) {
			snprintf(res->error, sizeof res->error, "the node could not be reached or did not answer");
			rc = sp_cli_call_exit(crc);
			goto partial;
		}
		if (r->code != 0) {
			snprintf(res->error, sizeof res->error, "%s", r->message);
			fprintf(stderr, "%sseinpost involve: %s: %s\n", pg.on ? "\n" : "", path, r->message);
			seinpost__local_reply__free_unpacked(r, NULL);
			goto partial;
		}
		seinpost__local_reply__free_unpacked(r, NULL);
		sent += n;
		res->registered = sent;
		progress_show(&pg, res->lines, sent, 0);
	}
	progress_show(&pg, res->lines, sent, 1);
	rc = SP_EXIT_OK;
	goto out;
partial:
	if (pg.on)
		fputc('\n', stderr);
	if (sent)
		fprintf(stderr, "seinpost involve: the first %zu involvements (up to line %u) were stored; "
		        "fix the file and run again (registering twice is harmless)\n", sent, lines[sent - 1]);
	else
		fprintf(stderr, "seinpost involve: nothing was registered\n");
out:
	if (text)
		sodium_memzero(text, len);
	free(text);
	free(items);
	free(ptrs);
	free(lines);
	return rc;
}

int sp_cli_involve(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bsn", required_argument, NULL, 'b' },
		{ "kvk", required_argument, NULL, 'k' },
		{ "bag", required_argument, NULL, 'g' },
		{ "until", required_argument, NULL, 'u' },
		{ "ref", required_argument, NULL, 'r' },
		{ "file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	Seinpost__InvolveRequest ir = SEINPOST__INVOLVE_REQUEST__INIT;
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__LocalReply *r = NULL;
	int remove = strcmp(argv[0], "uninvolve") == 0, o, rc, quiet = 0, json = 0;
	const char *file = NULL;
	int other = 0, dated = 0; /* --bsn, --until or --ref given; --until or --ref given */
	uint64_t t0 = sp_mono_ms();
	sp_config cfg;
	json_t *out;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': ir.subject_id = optarg; ir.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON; other = 1; break;
		/* a municipality or police unit involved with a business or an address */
		case 'k': ir.subject_id = optarg; ir.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_BUSINESS; other = 1; break;
		case 'g': ir.subject_id = optarg; ir.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION; other = 1; break;
		case 'u': ir.until = optarg; other = dated = 1; break;
		case 'r': ir.ref = optarg; other = dated = 1; break;
		case 'f': file = optarg; break;
		case 'q': quiet = 1; break;
		case 'j': json = 1; break;
		default:
			fprintf(stderr, "seinpost %s: unknown option or missing value: %s\n", argv[0], argv[optind - 1]);
			return SP_EXIT_USAGE;
		}
	}
	if (file && !remove && optind == argc && !other) {
		struct file_result res = { 0 };
		if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
			return rc;
		if (cfg.role != SP_RUN_NODE) {
			fprintf(stderr, "seinpost involve: %s is not a node configuration\n", cfg_path);
			return SP_EXIT_USAGE;
		}
		if (json)
			res.refused = json_array();
		rc = involve_file(&cfg, file, quiet || json, &res);
		if (!json) {
			if (rc == SP_EXIT_OK && !quiet)
				printf("seinpost involve: %zu involvements from %s stored; the broker is being told\n",
				       res.registered, file);
			return rc;
		}
		out = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I}", "action", "involve", "file", file, "ok",
		                rc == SP_EXIT_OK, "lines_checked", (json_int_t)res.lines, "involvements",
		                (json_int_t)res.items, "registered", (json_int_t)res.registered, "lines_refused",
		                (json_int_t)res.bad, "duration_ms", (json_int_t)(sp_mono_ms() - t0));
		if (out && res.bad)
			json_object_set(out, "refused", res.refused);
		if (out && res.error[0])
			json_object_set_new(out, "error", json_string(res.error));
		json_decref(res.refused);
		int prc = sp_cli_print_json(out);
		return rc ? rc : prc;
	}
	/* (the generated INIT makes absent strings "", never NULL) */
	if (optind != argc || !ir.subject_id[0] || file || (remove && dated)) {
		fprintf(stderr, "usage: seinpost --config FILE %s --bsn BSN%s\n", argv[0],
		        remove ? "" : " [--until YYYY-MM-DD] [--ref REF]\n       seinpost --config FILE involve --file FILE [--quiet]");
		return SP_EXIT_USAGE;
	}
	if (!ir.subject_kind)
		ir.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	ir.remove = remove;
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_NODE) {
		fprintf(stderr, "seinpost %s: %s is not a node configuration\n", argv[0], cfg_path);
		return SP_EXIT_USAGE;
	}
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_INVOLVE;
	req.involve = &ir;
	if ((rc = sp_cli_local_call(&cfg, &req, &r)) != SP_OK) {
		if (json)
			sp_cli_print_json(json_pack("{s:s,s:b,s:I,s:s,s:I}", "action", argv[0], "ok", 0,
			                            remove ? "ended" : "registered",
			                            (json_int_t)0, "error",
			                            "the node could not be reached or did not answer", "duration_ms",
			                            (json_int_t)(sp_mono_ms() - t0)));
		return sp_cli_call_exit(rc);
	}
	rc = r->code == 0 ? SP_EXIT_OK : SP_EXIT_BAD;
	if (json) {
		out = json_pack("{s:s,s:b,s:I,s:I}", "action", argv[0], "ok", rc == SP_EXIT_OK,
		                remove ? "ended" : "registered", (json_int_t)(rc == SP_EXIT_OK), "duration_ms",
		                (json_int_t)(sp_mono_ms() - t0));
		if (out)
			json_object_set_new(out, rc ? "error" : "message", json_string(r->message));
		sp_cli_print_json(out);
		if (rc)
			fprintf(stderr, "seinpost %s: %s\n", argv[0], r->message);
	} else {
		fprintf(rc ? stderr : stdout, "seinpost %s: %s\n", argv[0], r->message);
	}
	seinpost__local_reply__free_unpacked(r, NULL);
	return rc;
}
