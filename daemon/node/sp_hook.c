/*
 * sp_hook.c — delivery hooks: the hand-over queue and its runner (sp_hook.h).
 *
 * The runner lives in the node's event loop, not in a thread: at most one
 * hook runs at a time (queue order is kept anyway), the child is started
 * with fork and execve (Landlock applied in between, docs/privsep.md),
 * its stdin is a non-blocking pipe fed a little on every
 * tick, and it is reaped with waitpid(WNOHANG). The loop wakes at least
 * every 100 ms, so a hook's exit is noticed within that, while heartbeats,
 * receipts and submits go on. No second thread touches LMDB, the keys or the
 * logger, so nothing in sp_store.c needs to become thread-safe.
 *
 * Content is personal data: it exists decrypted only in the JSON buffer of
 * the item being handed over (wiped when done), is never logged, and the
 * hook's own stdout/stderr go to /dev/null for the same reason (a hook keeps
 * its own log). Logs and status carry item ids, exit codes and times only.
 */
#include "sp_hook.h"
#include "sp_meta_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>

#include "sp_involve.h"
#include "sp_log.h"
#include "sp_reads.h"
#include "sp_feedback_keep.h"
#include "sp_render.h"
#include "sp_sandbox.h"
#include "sp_util.h"
#include "sp_withdrawn.h"

#define C "hook"
#define SEQ_KEY SP_MK_HOOK_SEQ
#define NEVER UINT64_MAX

struct sp_hook {
	const sp_config *cfg;
	sp_store *store;
	sp_kh *kh;                /* signs the read receipts, opens the grants */
	const sp_roster *roster;
	const sp_policy *policy;
	uint64_t wake;            /* unix ms: look at the queue again; NEVER = until kicked */
	int retry_now;            /* the operator fixed the hook (SIGHUP): ignore the backoff once */
	/* the item being handed to the command */
	pid_t pid;                /* 0: none running */
	int fd;                   /* its stdin, -1 once closed */
	int outfd;                /* the spool-out directory, opened once without following a link */
	char *json;
	size_t jlen, jsent;
	uint64_t deadline, kill_at; /* mono ms */
	int termed;
	uint8_t key[8];
	Seinpost__HookItem *item;
	char item_id[SP_HOOK_ITEM_ID_MAX];
};

/* ---- queue ------------------------------------------------------------------ */

int sp_hook_enabled(const sp_config *c)
{
	return c->hook_command[0] || c->hook_out[0];
}

const char *sp_hook_kind_name(int kind)
{
	switch (kind) {
	case SEINPOST__HOOK_KIND__HOOK_SIGNAL: return "signal";
	case SEINPOST__HOOK_KIND__HOOK_REFERRAL: return "referral";
	case SEINPOST__HOOK_KIND__HOOK_UPDATE: return "update";
	case SEINPOST__HOOK_KIND__HOOK_FEEDBACK: return "feedback";
	case SEINPOST__HOOK_KIND__HOOK_WITHDRAWN: return "withdrawn";
	default: return "unknown";
	}
}

uint64_t sp_hook_backoff_ms(uint32_t retry_s, uint32_t attempts)
{
	uint64_t d = (uint64_t)(retry_s ? retry_s : 1) * 1000u;
	for (uint32_t i = 1; i < attempts && d < SP_HOOK_BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < SP_HOOK_BACKOFF_MAX_MS ? d : SP_HOOK_BACKOFF_MAX_MS;
}

void sp_hook_item_id(const Seinpost__HookItem *it, char *out, size_t len)
{
	char hex[SP_ID_HEX];
	snprintf(out, len, "%s-%s-%llu", sp_hex(it->signal_id.data, SP_ID_BYTES, hex),
	         sp_hook_kind_name(it->kind), (unsigned long long)it->seq);
}

int sp_hook_item_encode(const Seinpost__HookItem *it, uint8_t **out, size_t *len)
{
	size_t n = seinpost__hook_item__get_packed_size(it);
	*out = malloc(n ? n : 1);
	if (!*out)
		return SP_ENOMEM;
	*len = seinpost__hook_item__pack(it, *out);
	return SP_OK;
}

int sp_hook_item_decode(const void *v, size_t len, Seinpost__HookItem **out)
{
	*out = seinpost__hook_item__unpack(NULL, len, v);
	if (*out && (*out)->signal_id.len == SP_ID_BYTES)
		return SP_OK;
	if (*out)
		seinpost__hook_item__free_unpacked(*out, NULL);
	*out = NULL;
	return SP_EMALFORMED;
}

int sp_hook_enqueue(sp_txn *t, const uint8_t id[16], Seinpost__HookKind kind, uint64_t now_ms)
{
	Seinpost__HookItem it = SEINPOST__HOOK_ITEM__INIT;
	const void *v;
	size_t vl, len;
	uint8_t key[8], *buf = NULL;
	uint64_t seq = 0;
	int rc = sp_store_get(t, SP_DB_META, SEQ_KEY, strlen(SEQ_KEY), &v, &vl);
	if (rc == SP_OK && vl == 8)
		seq = sp_be64_get(v);
	else if (rc != SP_OK && rc != SP_ENOTFOUND)
		return rc;
	seq++;
	sp_be64_put(key, seq);
	rc = sp_store_put(t, SP_DB_META, SEQ_KEY, strlen(SEQ_KEY), key, 8, 0);
	if (rc != SP_OK)
		return rc;
	it.signal_id.data = (uint8_t *)id;
	it.signal_id.len = SP_ID_BYTES;
	it.kind = kind;
	it.seq = seq;
	it.queued = now_ms;
	rc = sp_hook_item_encode(&it, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_HOOK, key, 8, buf, len, SP_PUT_NOOVERWRITE);
	free(buf);
	return rc;
}

/* The head of the queue (first key), decoded. SP_ENOTFOUND when empty. */
struct head {
	uint8_t key[8];
	Seinpost__HookItem *item;
	int rc;
};

static int head_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct head *h = ctx;
	h->rc = kl == 8 ? sp_hook_item_decode(v, vl, &h->item) : SP_EMALFORMED;
	if (kl == 8)
		memcpy(h->key, k, 8);
	return 1;
}

static int queue_head(sp_txn *t, struct head *h)
{
	memset(h, 0, sizeof *h);
	h->rc = SP_ENOTFOUND;
	(void)sp_store_foreach(t, SP_DB_HOOK, NULL, 0, head_row, h);
	return h->rc;
}

/* ---- runner ----------------------------------------------------------------- */

int sp_hook_open(const sp_config *c, sp_store *s, sp_kh *kh, const sp_roster *r,
                 const sp_policy *p, sp_hook **out)
{
	sp_hook *h = calloc(1, sizeof *h);
	if (!h)
		return SP_ENOMEM;
	h->cfg = c;
	h->store = s;
	h->kh = kh;
	h->roster = r;
	h->policy = p;
	h->fd = -1;
	h->outfd = -1;
	h->wake = sp_hook_enabled(c) ? 0 : NEVER;
	*out = h;
	/* A wrong setting does not stop the node: items are kept, retried and
	 * shown in status until it is fixed. */
	if (c->hook_out[0] && sp_mkdir_p(c->hook_out, 0700) != SP_OK)
		sp_log(LOG_ERR, C, "spool-out directory %s cannot be created", c->hook_out);
	else if (c->hook_out[0] && (h->outfd = sp_dir_open(c->hook_out)) < 0)
		sp_log(LOG_ERR, C, "spool-out directory %s: %s", c->hook_out,
		       h->outfd == SP_EPERM ? "a symbolic link or not accessible: refused" : sp_strerror(h->outfd));
	if (c->hook_command[0] && access(c->hook_command, X_OK) != 0)
		sp_log(LOG_ERR, C, "hook command %s is not executable: %s", c->hook_command, strerror(errno));
	if (sp_hook_enabled(c))
		sp_log(LOG_INFO, C, "delivery hook:%s%s%s%s", c->hook_out[0] ? " spool-out " : "", c->hook_out,
		       c->hook_command[0] ? " command " : "", c->hook_command);
	return SP_OK;
}

void sp_hook_retry_now(sp_hook *h)
{
	if (!h || !sp_hook_enabled(h->cfg))
		return;
	h->retry_now = 1;
	sp_log(LOG_NOTICE, C, "retrying the pending hand-over now (SIGHUP)");
	sp_hook_kick(h);
}

void sp_hook_kick(sp_hook *h)
{
	if (h && sp_hook_enabled(h->cfg) && !h->pid)
		h->wake = 0;
}

static void forget_current(sp_hook *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->json) {
		sodium_memzero(h->json, h->jlen);
		free(h->json);
	}
	h->json = NULL;
	h->jlen = h->jsent = 0;
	h->pid = 0;
	h->termed = 0;
	if (h->item)
		seinpost__hook_item__free_unpacked(h->item, NULL);
	h->item = NULL;
}

/* One committed change of the head item: put it back (updated) or delete it
 * (handed over); with r set, the hand-over is audited in the same commit. */
static int commit_item(sp_hook *h, const Seinpost__HookItem *it, int del, const sp_render *r, const char *user)
{
	sp_txn *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_txn_begin(h->store, 1, &t);
	if (rc == SP_OK && r)
		rc = sp_render_audit(t, r, h->cfg->org, user, h->kh);
	if (rc == SP_OK && del)
		rc = sp_store_del(t, SP_DB_HOOK, h->key, 8);
	if (rc == SP_OK && !del)
		rc = sp_hook_item_encode(it, &buf, &len);
	if (rc == SP_OK && !del)
		rc = sp_store_put(t, SP_DB_HOOK, h->key, 8, buf, len, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	free(buf);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "item %s: cannot update the hook queue: %s (%s)", h->item_id, sp_strerror(rc),
		       sp_store_last_error());
	return rc;
}

/* A failed attempt: count it, back off, keep the item at the head. */
static void failed(sp_hook *h, const char *why)
{
	Seinpost__HookItem *it = h->item;
	uint64_t now = sp_now_ms(), delay;
	char idhex[SP_ID_HEX], err[128];
	snprintf(err, sizeof err, "%s", why);
	it->attempts++;
	if (!it->first_failure)
		it->first_failure = now;
	delay = sp_hook_backoff_ms(h->cfg->hook_retry_s, it->attempts);
	it->next_attempt = now + delay;
	char *kept = it->last_error;
	it->last_error = err;
	sp_log_event(LOG_WARNING, C, h->cfg->org, sp_hex(it->signal_id.data, SP_ID_BYTES, idhex),
	             "item %s not handed over: %s (attempt %u); next try in %llu s", h->item_id, err,
	             it->attempts, (unsigned long long)(delay / 1000));
	(void)commit_item(h, it, 0, NULL, NULL);
	it->last_error = kept; /* err is ours; the unpacked string is freed with the item */
	h->wake = it->next_attempt;
	forget_current(h);
}

static void succeeded(sp_hook *h)
{
	char idhex[SP_ID_HEX];
	uint32_t failures = h->item->attempts;
	sp_hex(h->item->signal_id.data, SP_ID_BYTES, idhex);
	if (commit_item(h, h->item, 1, NULL, NULL) == SP_OK) {
		sp_log_event(LOG_INFO, C, h->cfg->org, idhex, "item %s handed over%s", h->item_id,
		             failures ? " after failed attempts" : "");
		h->wake = 0; /* the next one at once */
	} else {
		/* It stays pending and runs again: the documented exactly-once
		 * window (docs/hooks.md), hence SEINPOST_ITEM_ID. */
		h->wake = sp_now_ms() + sp_hook_backoff_ms(h->cfg->hook_retry_s, 1);
	}
	forget_current(h);
}

/* The spool-out file: <out>/.<item>.json.tmp, fsync, rename to
 * <out>/<item>.json, fsync the directory — a reader never sees half a file.
 * The importer's account can write <out>: we write only by name inside the
 * directory opened at start (a symbolic link there is refused), and the
 * temp file is created O_EXCL|O_NOFOLLOW (sp_file_write_at). */
static int write_out(sp_hook *h, char *why, size_t wl)
{
	char path[SP_HOOK_ITEM_ID_MAX + 16], tmp[SP_HOOK_ITEM_ID_MAX + 16];
	int rc = SP_OK;
	if (h->outfd < 0 && (h->outfd = sp_dir_open(h->cfg->hook_out)) < 0) {
		rc = h->outfd;
		snprintf(why, wl, "spool-out: %.100s %s", h->cfg->hook_out,
		         rc == SP_EPERM ? "is a symbolic link or not accessible: refused" : sp_strerror(rc));
		return rc;
	}
	snprintf(path, sizeof path, "%s.json", h->item_id);
	snprintf(tmp, sizeof tmp, ".%s.json.tmp", h->item_id);
	rc = sp_file_write_at(h->outfd, tmp, path, h->json, h->jlen, 0600);
	if (rc != SP_OK)
		snprintf(why, wl, "spool-out: cannot write to %.100s: %s", h->cfg->hook_out, sp_strerror(rc));
	return rc;
}

/* The hook child, between fork and exec: only async-signal-safe calls.
 * Landlock first (the node's state becomes unreadable, on top of keys/,
 * which the network process already cannot read), then nothing of the
 * daemon's descriptors, then exec. A sandbox that cannot be applied stops
 * the hook (exit 126), it never runs unconfined. */
static void hook_child(const char *cmd, char *const argv[], char *const envp[], int in)
{
	static const int dfl[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	int rs = sp_sandbox_hook_fd(), nul;
	sigset_t none;

	(void)setpgid(0, 0); /* own group: a timeout kills what the hook started too */
	for (size_t i = 0; i < sizeof dfl / sizeof dfl[0]; i++)
		(void)signal(dfl[i], SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0)
		_exit(126);
	nul = open("/dev/null", O_WRONLY);
	if (nul < 0 || dup2(nul, 1) < 0 || dup2(1, 2) < 0)
		_exit(126);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(126);
	if (rs >= 0 && syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		_exit(126);
	/* Nothing else of the daemon: LMDB keeps its data file open without
	 * close-on-exec, and a hook has no business with it. */
	closefrom(3);
	execve(cmd, argv, envp);
	_exit(127);
}

static int spawn_command(sp_hook *h, char *why, size_t wl)
{
	char e_item[SP_HOOK_ITEM_ID_MAX + 24], e_kind[48], e_org[96], e_sig[64], idhex[SP_ID_HEX];
	char *const argv[] = { (char *)h->cfg->hook_command, NULL };
	char *const envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", e_item, e_kind, e_org, e_sig, NULL };
	int p[2];
	pid_t pid;

	snprintf(e_item, sizeof e_item, "SEINPOST_ITEM_ID=%s", h->item_id);
	snprintf(e_kind, sizeof e_kind, "SEINPOST_KIND=%s", sp_hook_kind_name(h->item->kind));
	snprintf(e_org, sizeof e_org, "SEINPOST_ORG=%s", h->cfg->org);
	snprintf(e_sig, sizeof e_sig, "SEINPOST_SIGNAL_ID=%s", sp_hex(h->item->signal_id.data, SP_ID_BYTES, idhex));
	if (access(h->cfg->hook_command, X_OK) != 0) {
		snprintf(why, wl, "cannot start %.100s: %s", h->cfg->hook_command, strerror(errno));
		return SP_EIO;
	}
	/* Only the write end is non-blocking: the hook reads a normal stdin. */
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, wl, "cannot create a pipe: %s", strerror(errno));
		return SP_EIO;
	}
	/* fork, not posix_spawn: the child restricts itself (Landlock) before
	 * exec, and posix_spawn runs no code of ours in between. */
	pid = fork();
	if (pid == 0)
		hook_child(h->cfg->hook_command, argv, envp, p[0]);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		h->pid = 0;
		snprintf(why, wl, "cannot start %.100s: %s", h->cfg->hook_command, strerror(errno));
		return SP_EIO;
	}
	(void)setpgid(pid, pid); /* as the child does: no window for kill(-pid) */
	h->pid = pid;
	h->fd = p[1];
	(void)fcntl(h->fd, F_SETFL, O_NONBLOCK);
	h->deadline = sp_mono_ms() + (uint64_t)h->cfg->hook_timeout_s * 1000u;
	return SP_OK;
}

/* The JSON handed over: the opened signal plus what the consumer needs to
 * de-duplicate and route it. */
static int build_json(sp_hook *h, const sp_render *r, const char *ref)
{
	json_t *o = sp_render_json(r, ref);
	if (!o)
		return SP_ENOMEM;
	json_object_set_new(o, "item_id", json_string(h->item_id));
	json_object_set_new(o, "kind", json_string(sp_hook_kind_name(h->item->kind)));
	json_object_set_new(o, "org", json_string(h->cfg->org));
	h->json = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!h->json)
		return SP_ENOMEM;
	h->jlen = strlen(h->json);
	return SP_OK;
}

/* The JSON is ready (and audited where it holds content): write the
 * spool-out file, then start the command. */
static void hand_over(sp_hook *h, uint64_t now)
{
	char why[256] = "";
	if (h->cfg->hook_out[0] && !h->item->out_done) {
		if (write_out(h, why, sizeof why) != SP_OK) {
			failed(h, why);
			return;
		}
		if (!h->cfg->hook_command[0]) {
			succeeded(h);
			return;
		}
		/* Out first, then the command; remember the file is there. */
		h->item->out_done = 1;
		if (commit_item(h, h->item, 0, NULL, NULL) != SP_OK) {
			h->wake = now + sp_hook_backoff_ms(h->cfg->hook_retry_s, 1);
			forget_current(h);
			return;
		}
	}
	if (spawn_command(h, why, sizeof why) != SP_OK)
		failed(h, why);
}

/* A feedback item (what happened with a signal we sent) or a withdrawn one
 * (its sender withdrew a signal we held: delete it). No content of
 * anyone's signal, so nothing to open or audit (sp_feedback_keep.h). */
static void start_feedback(sp_hook *h, sp_txn *t, uint64_t now)
{
	json_t *o = h->item->kind == SEINPOST__HOOK_KIND__HOOK_WITHDRAWN ? sp_withdrawn_hook_json(t, h->item->signal_id.data)
	                                                                 : sp_feedback_hook_json(t, h->item->signal_id.data);
	sp_txn_abort(&t);
	if (!o) {
		/* the signal expired at our node: nothing left to tell */
		if (commit_item(h, h->item, 1, NULL, NULL) == SP_OK)
			h->wake = 0;
		else
			h->wake = now + 1000;
		forget_current(h);
		return;
	}
	json_object_set_new(o, "item_id", json_string(h->item_id));
	json_object_set_new(o, "kind", json_string(sp_hook_kind_name(h->item->kind)));
	json_object_set_new(o, "org", json_string(h->cfg->org));
	h->json = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!h->json) {
		failed(h, "out of memory");
		return;
	}
	h->jlen = strlen(h->json);
	hand_over(h, now);
}

/* Take the head item if it is due: open it, audit the hand-over once, write
 * the spool-out file, start the command. */
static void start_next(sp_hook *h)
{
	sp_txn *t = NULL;
	struct head hd;
	sp_render r = { 0 };
	const void *v;
	size_t vl;
	char why[256] = "", ref[SP_INVOLVE_REF_MAX + 1] = "", idhex[SP_ID_HEX];
	const char *user = h->cfg->hook_command[0] ? SP_READ_SYSTEM_PREFIX "hook" : SP_READ_SYSTEM_PREFIX "spool-out";
	uint64_t now = sp_now_ms();
	int rc, gone = 0, opened;

	if (sp_txn_begin(h->store, 0, &t) != SP_OK) {
		h->wake = now + 1000;
		return;
	}
	rc = queue_head(t, &hd);
	if (rc == SP_ENOTFOUND) {
		sp_txn_abort(&t);
		h->wake = NEVER;
		return;
	}
	memcpy(h->key, hd.key, 8);
	if (rc != SP_OK) {
		sp_txn_abort(&t);
		sp_log(LOG_ERR, C, "hook queue entry %llu is unreadable; remove it with mdb tools or fix the store",
		       (unsigned long long)sp_be64_get(hd.key));
		h->wake = now + SP_HOOK_BACKOFF_MAX_MS;
		return;
	}
	h->item = hd.item;
	sp_hook_item_id(h->item, h->item_id, sizeof h->item_id);
	if (h->item->next_attempt > now && !h->retry_now) {
		sp_txn_abort(&t);
		h->wake = h->item->next_attempt;
		forget_current(h);
		return;
	}
	h->retry_now = 0;
	if (h->item->kind == SEINPOST__HOOK_KIND__HOOK_FEEDBACK || h->item->kind == SEINPOST__HOOK_KIND__HOOK_WITHDRAWN) {
		start_feedback(h, t, now);
		return;
	}
	rc = sp_store_get(t, SP_DB_INBOX, h->item->signal_id.data, SP_ID_BYTES, &v, &vl);
	gone = rc == SP_ENOTFOUND;
	if (rc == SP_OK) {
		rc = sp_render_open(v, vl, h->roster, h->policy, sp_now_s(), h->cfg->org, h->kh, &r, why,
		                    sizeof why);
		/* past retention, or withdrawn by its sender: must not leave the node any more */
		gone = rc == SP_EEXPIRED || (rc == SP_EREVOKED && r.entry && r.entry->withdrawn);
	}
	opened = rc == SP_OK;
	if (opened)
		sp_involve_local_ref(t, r.h->pseudonym.data, ref, sizeof ref);
	sp_txn_abort(&t);
	sp_hex(h->item->signal_id.data, SP_ID_BYTES, idhex);
	if (gone) {
		/* Deleted by retention, or past its deadline, before it could be
		 * handed over: it must not leave the node any more. */
		sp_render_clear(&r);
		sp_log_event(LOG_NOTICE, C, h->cfg->org, idhex, "item %s dropped: the signal is %s", h->item_id,
		             rc == SP_EREVOKED ? "withdrawn by its sender" : "past its retention");
		if (commit_item(h, h->item, 1, NULL, NULL) == SP_OK)
			h->wake = 0;
		else
			h->wake = now + 1000;
		forget_current(h);
		return;
	}
	if (!opened) {
		failed(h, why[0] ? why : sp_strerror(rc));
		goto out;
	}
	if (r.withheld[0] && !h->item->audited)
		sp_log_event(LOG_WARNING, C, h->cfg->org, idhex, "the sender's %s is not acceptable text (%s); "
		             "withheld from the hand-over", r.withheld, r.withheld_why);
	if (build_json(h, &r, ref) != SP_OK) {
		failed(h, "out of memory");
		goto out;
	}
	/* The content leaves the node: a read, audited before it leaves and
	 * once per item (the flag is set in the same commit), like `show`. */
	if (!h->item->audited) {
		h->item->audited = 1;
		if (commit_item(h, h->item, 0, &r, user) != SP_OK) {
			h->wake = now + sp_hook_backoff_ms(h->cfg->hook_retry_s, 1);
			forget_current(h);
			goto out;
		}
	}
	hand_over(h, now);
out:
	sp_render_clear(&r);
}

/* Feed stdin as far as the pipe takes it; close it at the end (EOF). A hook
 * that exits without reading is judged by its exit status alone. */
static void feed(sp_hook *h)
{
	while (h->fd >= 0 && h->jsent < h->jlen) {
		ssize_t w = write(h->fd, h->json + h->jsent, h->jlen - h->jsent);
		if (w > 0) {
			h->jsent += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else {
			break; /* EPIPE: the hook closed its stdin */
		}
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

static void watch(sp_hook *h)
{
	uint64_t now = sp_mono_ms();
	char why[64];
	int st;
	pid_t p;

	feed(h);
	p = waitpid(h->pid, &st, WNOHANG);
	if (p == h->pid) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !h->termed)
			succeeded(h);
		else {
			if (h->termed)
				snprintf(why, sizeof why, "killed after %u s timeout", h->cfg->hook_timeout_s);
			else if (WIFEXITED(st))
				snprintf(why, sizeof why, "exit %d", WEXITSTATUS(st));
			else
				snprintf(why, sizeof why, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			failed(h, why);
		}
		return;
	}
	if (p < 0 && errno != EINTR) {
		failed(h, "lost track of the hook process");
		return;
	}
	if (!h->termed && now >= h->deadline) {
		(void)kill(-h->pid, SIGTERM);
		h->termed = 1;
		h->kill_at = now + SP_HOOK_KILL_GRACE_MS;
	} else if (h->termed && now >= h->kill_at) {
		(void)kill(-h->pid, SIGKILL);
		h->kill_at = now + SP_HOOK_KILL_GRACE_MS;
	}
}

void sp_hook_tick(sp_hook *h)
{
	if (!h)
		return;
	if (h->pid) {
		watch(h);
		return;
	}
	if (h->wake == NEVER || sp_now_ms() < h->wake)
		return;
	start_next(h);
}

void sp_hook_close(sp_hook **hp)
{
	sp_hook *h = *hp;
	int st;
	if (!h)
		return;
	if (h->outfd >= 0)
		close(h->outfd);
	if (h->pid) {
		/* Not finished: the item stays pending and runs again after the
		 * restart (without counting as a failed attempt). */
		(void)kill(-h->pid, SIGTERM);
		for (int i = 0; i < 20 && waitpid(h->pid, &st, WNOHANG) == 0; i++)
			usleep(50000);
		if (waitpid(h->pid, &st, WNOHANG) == 0) {
			(void)kill(-h->pid, SIGKILL);
			(void)waitpid(h->pid, &st, 0);
		}
		sp_log(LOG_NOTICE, C, "item %s: hook stopped at shutdown; it runs again at the next start",
		       h->item_id);
	}
	forget_current(h);
	free(h);
	*hp = NULL;
}

/* ---- status ----------------------------------------------------------------- */

int sp_status_hook(const sp_status_src *src, sp_status *st)
{
	const sp_config *c = src->cfg;
	struct head hd;
	uint64_t n = 0, now = src->opts->now_ms;
	char age[32], next[32], id[SP_HOOK_ITEM_ID_MAX];
	int rc, level;

	if (sp_store_count(src->txn, SP_DB_HOOK, &n) != SP_OK)
		n = 0; /* no hook database yet */
	if (!sp_hook_enabled(c) && n == 0)
		return SP_OK;
	sp_status_num(st, "hook", "pending", (double)n);
	if (!sp_hook_enabled(c))
		return sp_status_add(st, "hook", "pending", SP_STATUS_BAD,
		                     "%llu item(s) waiting but no [hook] command or out is configured",
		                     (unsigned long long)n);
	if (n == 0)
		return sp_status_add(st, "hook", "pending", SP_STATUS_OK, "0");
	rc = queue_head(src->txn, &hd);
	if (rc != SP_OK)
		return sp_status_add(st, "hook", "pending", SP_STATUS_BAD, "%llu, the oldest is unreadable",
		                     (unsigned long long)n);
	Seinpost__HookItem *it = hd.item;
	uint64_t a = now > it->queued ? now - it->queued : 0;
	sp_status_num(st, "hook", "oldest_age_s", (double)(a / 1000));
	sp_status_num(st, "hook", "oldest_attempts", it->attempts);
	level = it->attempts >= SP_HOOK_BAD_ATTEMPTS || a / 1000 > src->opts->max_age_s ? SP_STATUS_BAD
	        : it->attempts ? SP_STATUS_WARN : SP_STATUS_OK;
	sp_hook_item_id(it, id, sizeof id);
	rc = sp_status_add(st, "hook", "pending", level, "%llu, oldest queued %s ago", (unsigned long long)n,
	                   sp_status_age(a, age, sizeof age));
	if (rc == SP_OK && it->attempts)
		rc = sp_status_add(st, "hook", "oldest", level, "%s: %u failed attempt(s), last error: %s; next try in %s",
		                   id, it->attempts, it->last_error,
		                   sp_status_age(it->next_attempt > now ? it->next_attempt - now : 0, next, sizeof next));
	else if (rc == SP_OK)
		rc = sp_status_add(st, "hook", "oldest", level, "%s: not tried yet", id);
	seinpost__hook_item__free_unpacked(it, NULL);
	return rc;
}

void sp_hook_set_roster(sp_hook *h, const sp_roster *r)
{
	if (h)
		h->roster = r;
}
