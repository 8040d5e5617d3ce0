/* sp_node_life.c — the network process starts (roster, policy, store,
 * sockets, hooks, spool, sandbox) and stops. */
#include "sp_node_int.h"

int sp_node_open(struct node *n)
{
	char err[512], sock_path[PATH_MAX], ep[PATH_MAX + 8];
	int rc;

	rc = sp_keys_load_transport(n->cfg->keys_dir, &n->keys);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "transport keys in %s: %s", n->cfg->keys_dir, sp_strerror(rc));
		return rc;
	}
	/* Directories the node makes itself must exist before the sandbox:
	 * Landlock allows what is there when it is applied (docs/privsep.md).
	 * A link or a file there is refused later, when they are opened. */
	if (n->cfg->spool_in[0] && sp_mkdir_p(n->cfg->spool_in, 0750) != SP_OK)
		sp_log(LOG_WARNING, C, "spool directory %s cannot be made: %s", n->cfg->spool_in, strerror(errno));
	if (n->cfg->hook_out[0] && sp_mkdir_p(n->cfg->hook_out, 0700) != SP_OK)
		sp_log(LOG_WARNING, C, "hook out directory %s cannot be made: %s", n->cfg->hook_out, strerror(errno));
	/* From here on keys/ is out of reach, before any thread (ZeroMQ's I/O
	 * thread parses the network too) exists (docs/privsep.md). */
	rc = sp_sandbox_network(n->cfg);
	if (rc != SP_OK)
		return rc;
	rc = sp_rosterstate_load(n->cfg, &n->roster);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "roster %s: %s", n->cfg->roster_path, sp_strerror(rc));
		return rc;
	}
	const sp_org *me = sp_roster_find(n->roster, n->cfg->org);
	/* After `keys rotate` the roster may still name the previous
	 * generation (the operator has not added it yet): the key holder
	 * switches to it and hands over its CURVE (transport) secret. */
	if (me && (memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 ||
	           memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0) &&
	    sp_kh_select(n->kh, me->curve_pk, me->sign_pk, n->keys->curve_sk) == SP_OK) {
		memcpy(n->keys->curve_pk, me->curve_pk, 32);
		memcpy(n->keys->sign_pk, me->sign_pk, 32);
	}
	if (!me || memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 ||
	    memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0) {
		sp_log(LOG_ERR, C, "organisation '%s' is not on the roster with these keys", n->cfg->org);
		return SP_EORG;
	}
	if ((rc = sp_node_oprf_open(n->cfg, n->keys, n->roster, n->kh)) != SP_OK) /* after the sandbox: threads */
		return rc;
	if (sp_policy_load(n->cfg->policy_path, &n->policy, err, sizeof err) != SP_OK) {
		sp_log(LOG_ERR, C, "policy: %s", err);
		return SP_ECONFIG;
	}
	rc = sp_store_open(n->cfg->state_dir, n->cfg->map_size, SP_STORE_CHECK, &n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "state %s: %s (%s)", n->cfg->state_dir, sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	sp_awaiting_opts ao = { n->cfg->org, n->kh, &n->roster, n->policy, n->store, n->cfg->max_age_s, n->cfg->retry_ms };
	if ((rc = sp_awaiting_new(&ao, &n->await)) != SP_OK)
		return rc;
	sp_health_audit_check(&n->health, n->store, NULL);
	rc = sp_outbox_migrate(n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "outbox index: %s (%s)", sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	rc = sp_involve_migrate(n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "involvement index: %s (%s)", sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	sp_backoff_init(&n->retry, n->cfg->retry_ms, n->cfg->retry_ms * BACKOFF_MAX_FACTOR);
	if (chmod(n->cfg->state_dir, 0700) != 0)
		return SP_EIO;
	n->zctx = zmq_ctx_new();
	if (!n->zctx)
		return SP_ENOMEM;
	/* No receive limit on the broker link: a full receive pipe stops the
	 * connection's input, and libzmq 4.3.4 aborts when a heartbeat timeout
	 * then replaces the connection (libzmq #3937, "Assertion failed:
	 * _input_stopped"). What the broker sends is bounded by its window and
	 * by resends that back off (sp_pump.c). */
	sp_transport_opts o = { .endpoint = n->cfg->endpoint, .max_frame = n->cfg->max_frame, .heartbeat_ms = n->cfg->heartbeat_ms,
	                        .rcvhwm = -1 };
	rc = sp_transport_node(n->zctx, n->keys, sp_roster_broker_curve(n->roster), n->cfg->org, &o, &n->sock);
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_link_open(n->zctx, n->sock, n->cfg->endpoint, &n->link)) != SP_OK)
		return rc;
	/* the privacy officer's node: the pseudonymisation service's alarms */
	if ((rc = sp_oalarms_open(n->cfg, n->keys, n->roster, n->zctx, &n->oalarms)) != SP_OK)
		return rc;
	/* Local submit socket: a Unix socket inside the 0700 state directory,
	 * so only this node's user can reach it. */
	if (sp_config_submit_socket(n->cfg, sock_path, sizeof sock_path) != SP_OK)
		return SP_ESIZE;
	unlink(sock_path);
	snprintf(ep, sizeof ep, "ipc://%s", sock_path);
	n->local = zmq_socket(n->zctx, ZMQ_ROUTER);
	if (!n->local)
		return SP_EIO;
	int linger = 0, maxmsg = (int)n->cfg->max_frame;
	int64_t mm = maxmsg;
	zmq_setsockopt(n->local, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(n->local, ZMQ_MAXMSGSIZE, &mm, sizeof mm);
	if (zmq_bind(n->local, ep) != 0) {
		sp_log(LOG_ERR, C, "cannot bind the submit socket %s: %s", sock_path, zmq_strerror(zmq_errno()));
		return SP_EIO;
	}
	chmod(sock_path, 0600);
	rc = sp_hook_open(n->cfg, n->store, n->kh, n->roster, n->policy, &n->hook);
	if (rc != SP_OK)
		return rc;
	if (n->cfg->spool_in[0] && sp_spool_open(n->cfg->spool_in, n->cfg->max_frame, &n->spool) != SP_OK)
		return SP_EIO;
	n->audit = (sp_nodeaudit){ .store = n->store, .roster = n->roster,
	                           .send = sp_node_audit_send, .ctx = n, .monitor = sp_monitor_wanted(n->cfg, n->roster) };
	return SP_OK;
}

void sp_node_close(struct node *n)
{
	char sock_path[PATH_MAX];
	sp_hook_close(&n->hook);
	sp_link_close(&n->link);
	sp_node_oprf_close(n->kh);
	sp_oalarms_close(&n->oalarms);
	if (n->local)
		zmq_close(n->local);
	if (n->sock)
		zmq_close(n->sock);
	if (n->zctx)
		zmq_ctx_term(n->zctx);
	if (sp_config_submit_socket(n->cfg, sock_path, sizeof sock_path) == SP_OK && n->local)
		unlink(sock_path);
	sp_spool_close(&n->spool);
	sp_awaiting_free(&n->await);
	sp_store_close(&n->store);
	sp_policy_free(&n->policy);
	sp_roster_free(&n->roster);
	sp_keys_free(&n->keys);
}
