/*
 * zkcredit: the gate, a precontent-phase handler.
 *
 * It runs after nginx's access checks (allow/deny, auth_basic,
 * auth_request, satisfy), so nothing is spent on a request nginx refuses,
 * and before try_files and mirror, so that the location that gates is the
 * one that was asked for. One request goes through the states of
 * ngx_http_zkcredit_state_e, once per main request even across internal
 * redirects (error_page, try_files, named locations, X-Accel-Redirect):
 *
 *   START      find the credential header, read the body if there is one;
 *   VERIFY     wait for a verification slot of this worker (QUEUED), then
 *              a thread decodes the credential, computes the binding x
 *              from the request as received and verifies the proof
 *              (VERIFYING);
 *   VERIFIED   if the client is still there, one Lua script in Redis
 *              looks the nullifier up, checks the root and stores the
 *              nullifier unless it is there already (SPEND);
 *   DONE       the outcome becomes "serve" or a problem response.
 *
 * Only ngx_http_zkcredit_gate_handler() moves a request from one state to
 * the next and decides what it gets; the asynchronous steps record what
 * they found and run the phases again (the auth_request pattern).
 *
 * A ticket this request spent always ends with a voucher the owner can
 * fetch: the header filter issues it for the response that leaves, and a
 * request that ends without one (client gone, store lost the reply, nginx
 * could not serve) gets the whole C_max back (ngx_http_zkcredit_cleanup).
 */

#include "ngx_http_zkcredit_module.h"
#include "ngx_http_zkcredit_elapsed.h"

#include <sodium.h>
#include <string>
#include <time.h>
#include <type_traits>


typedef struct {
    ngx_uint_t  status;
    ngx_str_t   type;
    ngx_str_t   title;
    ngx_str_t   spent;
    ngx_str_t   detail;
} ngx_http_zkcredit_problem_t;


/* indexed by ngx_http_zkcredit_problem_e; "spent" is what the gateway
 * knows about the ticket of the credential it answers */
static ngx_http_zkcredit_problem_t  ngx_http_zkcredit_problems[] = {
    { NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED,
      ngx_string("urn:zkcredit:problem:credential-required"),
      ngx_string("Payment Required"), ngx_string("no"),
      ngx_string("This resource is paid for with a zkcredit credential, "
                 "and the request carried none.") },
    { NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED,
      ngx_string("urn:zkcredit:problem:credential-invalid"),
      ngx_string("Payment Required"), ngx_string("no"),
      ngx_string("The zkcredit credential was not accepted; this request "
                 "spent nothing.") },
    { NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED,
      ngx_string("urn:zkcredit:problem:root-not-accepted"),
      ngx_string("Payment Required"), ngx_string("no"),
      ngx_string("The credential's ticket is not spent, and its deposit "
                 "tree root is not accepted; prove it again against a "
                 "current root.") },
    { NGX_HTTP_BAD_REQUEST,
      ngx_string("urn:zkcredit:problem:rpc-invalid"),
      ngx_string("Bad Request"), ngx_string("no"),
      ngx_string("The body is not a JSON-RPC request or batch; this request "
                 "spent nothing.") },
    { NGX_HTTP_CONFLICT,
      ngx_string("urn:zkcredit:problem:ticket-spent"),
      ngx_string("Conflict"), ngx_string("yes"),
      ngx_string("This credential's ticket was spent already; its voucher "
                 "is attached when it exists, and can be fetched by "
                 "nullifier.") },
    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("urn:zkcredit:problem:overloaded"),
      ngx_string("Service Unavailable"), ngx_string("no"),
      ngx_string("Too many credentials are waiting to be checked; nothing "
                 "was spent. Retry later.") },
    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("urn:zkcredit:problem:store-unavailable"),
      ngx_string("Service Unavailable"), ngx_string("no"),
      ngx_string("Credentials cannot be checked right now; nothing was "
                 "spent. Retry later.") },
    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("urn:zkcredit:problem:outcome-unknown"),
      ngx_string("Service Unavailable"), ngx_string("unknown"),
      ngx_string("The store did not confirm whether this ticket was spent. "
                 "Send the identical request again to learn the outcome; "
                 "never prove this ticket again.") },
    { NGX_HTTP_NOT_FOUND,
      ngx_string("urn:zkcredit:problem:voucher-not-found"),
      ngx_string("Not Found"), ngx_string("unknown"),
      ngx_string("No voucher is stored under this nullifier (yet).") },
    { NGX_HTTP_NOT_ALLOWED,
      ngx_string("urn:zkcredit:problem:method-not-allowed"),
      ngx_string("Method Not Allowed"), ngx_string("unknown"),
      ngx_string("Vouchers are fetched with GET.") }
};


/* why a request was refused, for the server log only */
static const char  *ngx_http_zkcredit_outcome_reasons[] = {
    "accepted",
    "no credential",
    "malformed credential",
    "unknown server key",
    "proof does not verify",
    "unknown or expired root",
    "replayed ticket",
    "double-spent ticket",
    "client gone before the spend",
    "not a JSON-RPC request",
    "verification queue full",
    "store unavailable",
    "store did not answer the spend",
    "internal error"
};


/*
 * KEYS[1] the nullifier's record, KEYS[2] the accepted roots (score: when
 * the root stopped being current, +inf while it is);
 * ARGV root, x, y, root window in seconds, attempt, tag (the nullifier).
 *
 * The nullifier is looked up before the root: a spent ticket is reported
 * spent whatever its root, so a 402 always means "not spent".
 * The record keeps the spend's time rounded up to the minute: enough for the
 * settle timeout (a later time only delays a stale refund), no more.
 * Returns {0, tag} for a root not accepted, {1, tag} when the nullifier was
 * new and is now stored, {2, x, y, voucher or "", age in seconds, tag}
 * with what was stored before; a request still answering (a stream, whose
 * voucher comes at its end) has marked the record "s", and its age is 0.
 */
static ngx_str_t  ngx_http_zkcredit_spend_script = ngx_string(
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local seen = redis.call('HMGET', KEYS[1], 'x', 'y', 'v', 't', 's')\n"
    "if seen[1] then\n"
    "  local age = seen[5] and 0 or math.max(0, now - (tonumber(seen[4]) or 0))\n"
    "  return {2, seen[1], seen[2], seen[3] or '', tostring(age), ARGV[6]}\n"
    "end\n"
    "local score = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
    "if not score then return {0, ARGV[6]} end\n"
    "if score ~= 'inf' and tonumber(score) + tonumber(ARGV[4]) < now then\n"
    "  return {0, ARGV[6]}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'x', ARGV[2], 'y', ARGV[3], 'a', ARGV[5],\n"
    "           't', math.ceil(now / 60) * 60)\n"
    "return {1, ARGV[6]}\n");


static ngx_int_t ngx_http_zkcredit_run(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static ngx_int_t ngx_http_zkcredit_decide(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static void ngx_http_zkcredit_body_handler(ngx_http_request_t *r);
static void ngx_http_zkcredit_start_verify(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static ngx_int_t ngx_http_zkcredit_post_verify(ngx_http_zkcredit_ctx_t *head);
static void ngx_http_zkcredit_verify_thread(void *data, ngx_log_t *log);
static void ngx_http_zkcredit_verify_done(ngx_event_t *ev);
static void ngx_http_zkcredit_guard_expired(ngx_event_t *ev);
static ngx_uint_t ngx_http_zkcredit_client_gone(ngx_http_request_t *r);
static void ngx_http_zkcredit_spend(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx);
static void ngx_http_zkcredit_spend_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_seen(ngx_http_zkcredit_ctx_t *ctx,
    redisReply *reply);
static void ngx_http_zkcredit_reissue_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_evidence_reply(void *data, redisReply *reply);
static void ngx_http_zkcredit_record_double_spend(ngx_http_zkcredit_ctx_t *ctx,
    const libverify::Fr &x1, const libverify::Fr &y1);
static void ngx_http_zkcredit_wake(ngx_event_t *ev);
static void ngx_http_zkcredit_cleanup(void *data);


/* job objects live in the request pool, which runs no destructors */
static_assert(std::is_trivially_destructible<ngx_http_zkcredit_job_t>::value,
              "job must be trivially destructible");


/*
 * Requests of this worker waiting for a verification slot, and how many
 * verifications it has in its thread pool. Bounding both keeps the event
 * loop (and Redis, on a small machine) from being starved by verification
 * threads, and answers an overload with a 503 that spent nothing.
 */
static ngx_queue_t  ngx_http_zkcredit_waiting;
static ngx_uint_t   ngx_http_zkcredit_nwaiting;
static ngx_uint_t   ngx_http_zkcredit_verifying;


/*
 * Requests that wait are verified together: a slot that frees takes up to
 * ngx_http_zkcredit_batch_cap of them (of one deployment and thread pool)
 * as one task, whose proofs one batch check verifies (docs/operations.md,
 * "Batch verification"). At low load nobody waits and every proof is
 * verified alone. A batch with an invalid proof is checked again proof by
 * proof; each such batch halves the cap and each full valid batch doubles
 * it back towards zkcredit_verify_batch, so a stream of invalid proofs
 * keeps batches small and honest proofs near the single price.
 */
typedef struct {
    ngx_uint_t                 n;
    ngx_http_zkcredit_ctx_t   *ctx[NGX_HTTP_ZKCREDIT_BATCH_MAX];
    ngx_http_zkcredit_job_t   *job[NGX_HTTP_ZKCREDIT_BATCH_MAX];
} ngx_http_zkcredit_batch_t;

static ngx_uint_t   ngx_http_zkcredit_batch_cap;


/*
 * The context survives internal redirects, which clear r->ctx: it is also
 * the data of the request's cleanup handler (the realip idiom), where it is
 * found again.
 */
ngx_http_zkcredit_ctx_t *
ngx_http_zkcredit_get_ctx(ngx_http_request_t *r)
{
    ngx_http_cleanup_t       *cln;
    ngx_http_zkcredit_ctx_t  *ctx;

    r = r->main;

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_http_get_module_ctx(r, ngx_http_zkcredit_module));

    if (ctx != NULL || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_zkcredit_cleanup) {
            ctx = static_cast<ngx_http_zkcredit_ctx_t *>(cln->data);
            ngx_http_set_ctx(r, ctx, ngx_http_zkcredit_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_http_zkcredit_ctx_t *
ngx_http_zkcredit_create_ctx(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf)
{
    ngx_http_cleanup_t       *cln;
    ngx_http_zkcredit_ctx_t  *ctx;

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(
              ngx_pcalloc(r->pool, sizeof(ngx_http_zkcredit_ctx_t)));
    cln = ngx_http_cleanup_add(r, 0);

    if (ctx == NULL || cln == NULL) {
        return NULL;
    }

    ctx->request = r;
    ctx->conf = lcf;
    ctx->deployment = lcf->deployment;
    ctx->wake.handler = ngx_http_zkcredit_wake;
    ctx->wake.data = ctx;
    ctx->wake.log = r->connection->log;

    cln->handler = ngx_http_zkcredit_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_zkcredit_module);

    return ctx;
}


/* RFC 9110 field values may carry optional whitespace on both sides */
static void
ngx_http_zkcredit_trim_ows(ngx_str_t *value)
{
    while (value->len && (value->data[0] == ' ' || value->data[0] == '\t')) {
        value->data++;
        value->len--;
    }

    while (value->len && (value->data[value->len - 1] == ' '
                          || value->data[value->len - 1] == '\t'))
    {
        value->len--;
    }
}


ngx_int_t
ngx_http_zkcredit_gate_handler(ngx_http_request_t *r)
{
    ngx_uint_t                     count;
    ngx_table_elt_t               *h;
    ngx_http_zkcredit_ctx_t       *ctx;
    ngx_http_zkcredit_job_t       *job;
    ngx_http_zkcredit_loc_conf_t  *lcf;

    /* subrequests belong to a main request, which is gated or not */
    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_zkcredit_get_ctx(r);

    if (ctx != NULL) {
        return ngx_http_zkcredit_run(r, ctx);
    }

    lcf = static_cast<ngx_http_zkcredit_loc_conf_t *>(
              ngx_http_get_module_loc_conf(r, ngx_http_zkcredit_module));

    if (lcf->mode == NGX_HTTP_ZKCREDIT_OFF) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_zkcredit_create_ctx(r, lcf);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_zkcredit_find_header(&r->headers_in.headers, &lcf->header_name,
                                      &count);

    if (h == NULL || count > 1) {
        ctx->outcome = (h == NULL) ? NGX_HTTP_ZKCREDIT_MISSING
                                   : NGX_HTTP_ZKCREDIT_MALFORMED;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return ngx_http_zkcredit_run(r, ctx);
    }

    job = static_cast<ngx_http_zkcredit_job_t *>(
              ngx_palloc(r->pool, sizeof(ngx_http_zkcredit_job_t)));
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    new (job) ngx_http_zkcredit_job_t();
    job->deployment = &lcf->deployment->verify;
    job->keys = lcf->deployment->keys;
    job->credential_text = h->value;
    ngx_http_zkcredit_trim_ows(&job->credential_text);
    job->rpc = (lcf->meter == NGX_HTTP_ZKCREDIT_METER_JSONRPC) ? lcf : NULL;
    job->method = r->method_name;
    job->target = r->unparsed_uri;
    ctx->job = job;

    return ngx_http_zkcredit_run(r, ctx);
}


static ngx_int_t
ngx_http_zkcredit_run(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_int_t  rc;

    for ( ;; ) {

        switch (ctx->state) {

        case NGX_HTTP_ZKCREDIT_STATE_START:

            if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
                ctx->state = NGX_HTTP_ZKCREDIT_STATE_VERIFY;
                break;
            }

            /* x binds the body: it must be read whole before anything is
             * decided */
            ctx->state = NGX_HTTP_ZKCREDIT_STATE_BODY;

            rc = ngx_http_read_client_request_body(r,
                                                   ngx_http_zkcredit_body_handler);
            if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
                /* nothing was verified, so nothing was spent; nginx answers,
                 * through an error_page if one is configured */
                ctx->state = NGX_HTTP_ZKCREDIT_STATE_PASS;
                return rc;
            }

            ngx_http_finalize_request(r, NGX_DONE);
            return NGX_DONE;

        case NGX_HTTP_ZKCREDIT_STATE_VERIFY:
            ngx_http_zkcredit_start_verify(r, ctx);
            break;

        case NGX_HTTP_ZKCREDIT_STATE_VERIFIED:

            if (ngx_http_zkcredit_client_gone(r)) {
                ctx->outcome = NGX_HTTP_ZKCREDIT_CLIENT_GONE;
                ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
                break;
            }

            ngx_http_zkcredit_spend(r, ctx);
            break;

        case NGX_HTTP_ZKCREDIT_STATE_PASS:
            return NGX_DECLINED;

        case NGX_HTTP_ZKCREDIT_STATE_DONE:
            if (ctx->op != NULL) {
                /* a refusal waits for its evidence or voucher */
                return NGX_AGAIN;
            }
            return ngx_http_zkcredit_decide(r, ctx);

        default:
            /* BODY, QUEUED, VERIFYING, SPEND: an event will come back */
            return NGX_AGAIN;
        }
    }
}


static void
ngx_http_zkcredit_body_handler(ngx_http_request_t *r)
{
    ngx_http_zkcredit_ctx_t  *ctx;

    ctx = ngx_http_zkcredit_get_ctx(r);

    r->preserve_body = 1;

    if (r->request_body != NULL) {
        ctx->job->body = r->request_body->bufs;
    }

    ctx->state = NGX_HTTP_ZKCREDIT_STATE_VERIFY;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static void
ngx_http_zkcredit_start_verify(ngx_http_request_t *r,
    ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_http_zkcredit_main_conf_t  *zmcf;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));

    /* a client that leaves while it waits is noticed (test_reading) */
    r->read_event_handler = ngx_http_test_reading;

    if (ngx_http_zkcredit_verifying < zmcf->verify_limit) {
        (void) ngx_http_zkcredit_post_verify(ctx);
        return;
    }

    if (ngx_http_zkcredit_nwaiting >= zmcf->verify_queue) {
        ctx->outcome = NGX_HTTP_ZKCREDIT_OVERLOADED;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return;
    }

    if (ngx_http_zkcredit_nwaiting == 0) {
        ngx_queue_init(&ngx_http_zkcredit_waiting);
    }

    ngx_queue_insert_tail(&ngx_http_zkcredit_waiting, &ctx->waiting);
    ngx_http_zkcredit_nwaiting++;
    ctx->state = NGX_HTTP_ZKCREDIT_STATE_QUEUED;
}


/*
 * Hands `head` to the thread pool, with the waiting requests it can be
 * verified with. On failure every one of them has its outcome, and those
 * taken from the line have their wake posted; the caller answers `head`.
 */
static ngx_int_t
ngx_http_zkcredit_post_verify(ngx_http_zkcredit_ctx_t *head)
{
    ngx_uint_t                      i;
    ngx_queue_t                    *q, *next;
    ngx_thread_task_t              *task;
    ngx_http_request_t             *r;
    ngx_http_zkcredit_ctx_t        *ctx;
    ngx_http_zkcredit_batch_t      *batch;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    r = head->request;
    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));

    if (ngx_http_zkcredit_batch_cap == 0
        || ngx_http_zkcredit_batch_cap > zmcf->verify_batch)
    {
        ngx_http_zkcredit_batch_cap = zmcf->verify_batch;
    }

    /* the head's pool outlives the task: the request is blocked until then */
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_zkcredit_batch_t));
    if (task == NULL) {
        head->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;
        head->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return NGX_ERROR;
    }

    batch = static_cast<ngx_http_zkcredit_batch_t *>(task->ctx);
    batch->n = 1;
    batch->ctx[0] = head;
    batch->job[0] = head->job;

    for (q = ngx_http_zkcredit_nwaiting ? ngx_queue_head(&ngx_http_zkcredit_waiting)
                                        : NULL;
         q != NULL && q != ngx_queue_sentinel(&ngx_http_zkcredit_waiting)
         && batch->n < ngx_http_zkcredit_batch_cap;
         q = next)
    {
        next = ngx_queue_next(q);
        ctx = ngx_queue_data(q, ngx_http_zkcredit_ctx_t, waiting);

        if (ctx->job->deployment != head->job->deployment
            || ctx->conf->thread_pool != head->conf->thread_pool)
        {
            continue;
        }

        ngx_queue_remove(q);
        ngx_http_zkcredit_nwaiting--;
        batch->ctx[batch->n] = ctx;
        batch->job[batch->n] = ctx->job;
        batch->n++;
    }

    task->handler = ngx_http_zkcredit_verify_thread;
    task->event.handler = ngx_http_zkcredit_verify_done;
    task->event.data = batch;

    if (ngx_thread_task_post(head->conf->thread_pool, task) != NGX_OK) {
        /* the pool's own queue is full: nothing was checked or spent */
        for (i = 0; i < batch->n; i++) {
            batch->ctx[i]->outcome = NGX_HTTP_ZKCREDIT_OVERLOADED;
            batch->ctx[i]->state = NGX_HTTP_ZKCREDIT_STATE_DONE;

            if (i > 0) {
                ngx_post_event(&batch->ctx[i]->wake, &ngx_posted_events);
            }
        }

        return NGX_ERROR;
    }

    ngx_http_zkcredit_verifying++;

    for (i = 0; i < batch->n; i++) {
        ctx = batch->ctx[i];
        r = ctx->request;
        ctx->in_thread = 1;

        /* "blocked" keeps a terminated request alive until the thread is done */
        r->main->blocked++;
        r->aio = 1;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_VERIFYING;

        /*
         * A worker shutting down (a reload) exits once no timer is left;
         * this one keeps it until the verification it waits for has come
         * back.
         */
        ctx->guard.handler = ngx_http_zkcredit_guard_expired;
        ctx->guard.data = ctx;
        ctx->guard.log = r->connection->log;
        ngx_add_timer(&ctx->guard, NGX_HTTP_ZKCREDIT_VERIFY_GUARD);
    }

    return NGX_OK;
}


/* a slot is free: the oldest waiting request gets it, with its batch */
static void
ngx_http_zkcredit_next_waiting(void)
{
    ngx_queue_t              *q;
    ngx_http_zkcredit_ctx_t  *ctx;

    while (ngx_http_zkcredit_nwaiting > 0) {
        q = ngx_queue_head(&ngx_http_zkcredit_waiting);
        ngx_queue_remove(q);
        ngx_http_zkcredit_nwaiting--;

        ctx = ngx_queue_data(q, ngx_http_zkcredit_ctx_t, waiting);

        if (ngx_http_zkcredit_post_verify(ctx) == NGX_OK) {
            return;
        }

        /* refused (an overloaded pool): it answers from its own wake */
        ngx_post_event(&ctx->wake, &ngx_posted_events);
    }
}


static void
ngx_http_zkcredit_guard_expired(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                  "zkcredit: verification still running after %M ms",
                  static_cast<ngx_msec_t>(NGX_HTTP_ZKCREDIT_VERIFY_GUARD));
}


/* a JSON-RPC body larger than this is not priced: it is malformed */
#define NGX_HTTP_ZKCREDIT_RPC_BODY_MAX  (1024 * 1024)


/* keeps the body a JSON-RPC location prices; std::bad_alloc is caught */
static void
ngx_http_zkcredit_rpc_collect(ngx_http_zkcredit_job_t *job, std::string &body,
    const u_char *data, size_t len)
{
    if (job->rpc == NULL || job->rpc_malformed) {
        return;
    }

    if (body.size() + len > NGX_HTTP_ZKCREDIT_RPC_BODY_MAX) {
        job->rpc_malformed = 1;
        return;
    }

    try {
        body.append(reinterpret_cast<const char *>(data), len);

    } catch (...) {
        job->rpc_malformed = 1;
    }
}


/*
 * Runs in a thread-pool thread: decodes the credential, checks its key and
 * binds the request (reading the body), and prices a JSON-RPC body. True
 * when the proof is left to verify; otherwise the outcome is set.
 */
static ngx_uint_t
ngx_http_zkcredit_prepare_job(ngx_http_zkcredit_job_t *job)
{
    u_char                      buf[65536];
    off_t                       pos;
    size_t                      size;
    ssize_t                     n;
    timespec                    start, end;
    ngx_buf_t                  *b;
    ngx_uint_t                  i;
    ngx_chain_t                *cl;
    std::string                 rpc_body;
    libverify::Fr              *keys;
    libverify::Status           st;
    libverify::RequestBinder    binder;

    clock_gettime(CLOCK_MONOTONIC, &start);

    st = libverify::credential_decode(
             std::string_view(reinterpret_cast<char *>(job->credential_text.data),
                              job->credential_text.len),
             job->credential);

    if (st != libverify::Status::ok) {
        job->status = st;
        job->outcome = NGX_HTTP_ZKCREDIT_MALFORMED;
        return 0;
    }

    keys = static_cast<libverify::Fr *>(job->keys->elts);

    for (i = 0; i < job->keys->nelts; i++) {
        if (keys[i] == job->credential.key_hash) {
            break;
        }
    }

    if (i == job->keys->nelts) {
        job->outcome = NGX_HTTP_ZKCREDIT_UNKNOWN_KEY;
        return 0;
    }

    if (binder.start(std::string_view(reinterpret_cast<char *>(job->method.data),
                                      job->method.len),
                     std::string_view(reinterpret_cast<char *>(job->target.data),
                                      job->target.len))
        != libverify::Status::ok)
    {
        job->outcome = NGX_HTTP_ZKCREDIT_MALFORMED;
        return 0;
    }

    for (cl = job->body; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            binder.update_body(b->pos, static_cast<size_t>(b->last - b->pos));
            ngx_http_zkcredit_rpc_collect(job, rpc_body, b->pos,
                                          static_cast<size_t>(b->last - b->pos));
            continue;
        }

        if (!b->in_file) {
            continue;
        }

        for (pos = b->file_pos; pos < b->file_last; pos += n) {
            size = static_cast<size_t>(ngx_min(b->file_last - pos,
                                               static_cast<off_t>(sizeof(buf))));
            n = pread(b->file->fd, buf, size, pos);

            if (n <= 0) {
                job->read_errno = (n < 0) ? ngx_errno : 0;
                job->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;
                return 0;
            }

            binder.update_body(buf, static_cast<size_t>(n));
            ngx_http_zkcredit_rpc_collect(job, rpc_body, buf,
                                          static_cast<size_t>(n));
        }
    }

    job->x = binder.finish(job->credential.nonce.data());

    if (job->rpc != NULL
        && (job->rpc_malformed
            || ngx_http_zkcredit_rpc_charge(job->rpc,
                   reinterpret_cast<const u_char *>(rpc_body.data()),
                   rpc_body.size(), &job->rpc_charge)
               != NGX_OK))
    {
        job->rpc_malformed = 1;
        job->rpc_charge = UINT64_MAX;

        if (job->rpc->rpc_refuse_malformed) {
            /* refused before the proof is even checked: nothing spent */
            job->outcome = NGX_HTTP_ZKCREDIT_RPC_MALFORMED;
            return 0;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &end);
    job->verify_usec = ngx_http_zkcredit_elapsed_usec(&start, &end);

    return 1;
}


/*
 * Runs in a thread-pool thread: prepares each job of the batch, then
 * verifies the proofs left, alone or together. Pure computation and file
 * reads, no nginx state, no logging.
 */
static void
ngx_http_zkcredit_verify_thread(void *data, ngx_log_t *log)
{
    ngx_http_zkcredit_batch_t *batch = static_cast<ngx_http_zkcredit_batch_t *>(data);

    u_char                        seed[32];
    uint64_t                      share;
    timespec                      start, end;
    ngx_uint_t                    i, n;
    libverify::Status             verdicts[NGX_HTTP_ZKCREDIT_BATCH_MAX];
    const libverify::Fr          *xs[NGX_HTTP_ZKCREDIT_BATCH_MAX];
    ngx_http_zkcredit_job_t      *job, *ready[NGX_HTTP_ZKCREDIT_BATCH_MAX];
    const libverify::Credential  *credentials[NGX_HTTP_ZKCREDIT_BATCH_MAX];

    n = 0;

    for (i = 0; i < batch->n; i++) {
        job = batch->job[i];

        if (ngx_http_zkcredit_prepare_job(job)) {
            ready[n] = job;
            credentials[n] = &job->credential;
            xs[n] = &job->x;
            n++;
        }
    }

    if (n == 0) {
        return;
    }

    clock_gettime(CLOCK_MONOTONIC, &start);

    if (n == 1) {
        verdicts[0] = libverify::credential_verify(*ready[0]->deployment,
                                                   ready[0]->credential,
                                                   ready[0]->x);

    } else {
        /* the combination's coefficients must be unknown to the provers */
        randombytes_buf(seed, sizeof(seed));
        libverify::credential_verify_batch(*ready[0]->deployment, credentials,
                                           xs, n, seed, verdicts);
        sodium_memzero(seed, sizeof(seed));
    }

    clock_gettime(CLOCK_MONOTONIC, &end);
    share = ngx_http_zkcredit_elapsed_usec(&start, &end) / n;

    for (i = 0; i < n; i++) {
        job = ready[i];
        job->verify_usec += share;
        job->status = verdicts[i];

        if (verdicts[i] == libverify::Status::ok) {
            job->outcome = NGX_HTTP_ZKCREDIT_ACCEPTED;

        } else if (verdicts[i] == libverify::Status::internal_error) {
            job->outcome = NGX_HTTP_ZKCREDIT_INTERNAL_ERROR;

        } else {
            job->outcome = NGX_HTTP_ZKCREDIT_INVALID_PROOF;
        }
    }
}


static void
ngx_http_zkcredit_observe_verify(ngx_http_request_t *r, uint64_t usec)
{
    ngx_uint_t                     i;
    ngx_http_zkcredit_counters_t  *counters;

    static const uint64_t  bounds[NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS] = {
        250, 500, 1000, 2000, 5000, 10000, 50000, 250000
    };

    counters = ngx_http_zkcredit_counters(r);
    if (counters == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&counters->verify_count, 1);
    (void) ngx_atomic_fetch_add(&counters->verify_usec,
                                static_cast<ngx_atomic_int_t>(usec));

    for (i = 0; i < NGX_HTTP_ZKCREDIT_VERIFY_BUCKETS; i++) {
        if (usec <= bounds[i]) {
            (void) ngx_atomic_fetch_add(&counters->verify_le[i], 1);
        }
    }
}


/* one request of a task that came back: its state from its job's outcome */
static void
ngx_http_zkcredit_job_done(ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->request;

    ngx_http_set_log_request(r->connection->log, r);

    r->main->blocked--;
    r->aio = 0;
    ctx->in_thread = 0;

    if (ctx->guard.timer_set) {
        ngx_del_timer(&ctx->guard);
    }

    if (ctx->job->verify_usec) {
        ngx_http_zkcredit_observe_verify(r, ctx->job->verify_usec);
    }

    if (ctx->job->outcome == NGX_HTTP_ZKCREDIT_INTERNAL_ERROR
        && ctx->job->read_errno)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, ctx->job->read_errno,
                      "zkcredit: reading the buffered request body failed");
    }

    if (!ctx->gone) {
        if (ctx->job->outcome == NGX_HTTP_ZKCREDIT_ACCEPTED) {
            ctx->state = NGX_HTTP_ZKCREDIT_STATE_VERIFIED;

        } else {
            ctx->outcome = ctx->job->outcome;
            ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        }
    }
}


static void
ngx_http_zkcredit_verify_done(ngx_event_t *ev)
{
    ngx_uint_t                      i, n, invalid;
    ngx_http_request_t             *first;
    ngx_http_zkcredit_ctx_t        *ctxs[NGX_HTTP_ZKCREDIT_BATCH_MAX];
    ngx_http_zkcredit_batch_t      *batch;
    ngx_http_zkcredit_counters_t   *counters;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    batch = static_cast<ngx_http_zkcredit_batch_t *>(ev->data);

    /* the batch lives in the first request's pool, which a resume may free */
    n = batch->n;
    first = batch->ctx[0]->request;
    invalid = 0;

    for (i = 0; i < n; i++) {
        ctxs[i] = batch->ctx[i];
        invalid += (batch->job[i]->outcome == NGX_HTTP_ZKCREDIT_INVALID_PROOF);
    }

    ngx_http_zkcredit_verifying--;

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(first, ngx_http_zkcredit_module));
    counters = ngx_http_zkcredit_counters(first);

    if (counters != NULL) {
        (void) ngx_atomic_fetch_add(&counters->verify_tasks, 1);

        if (n > 1) {
            (void) ngx_atomic_fetch_add(&counters->verify_batched,
                                        static_cast<ngx_atomic_int_t>(n));
        }

        if (n > 1 && invalid) {
            (void) ngx_atomic_fetch_add(&counters->verify_batch_failures, 1);
        }
    }

    if (n > 1 && invalid) {
        ngx_http_zkcredit_batch_cap = ngx_max(1, ngx_http_zkcredit_batch_cap / 2);

    } else if (!invalid && n == ngx_http_zkcredit_batch_cap) {
        ngx_http_zkcredit_batch_cap = ngx_min(zmcf->verify_batch,
                                              ngx_http_zkcredit_batch_cap * 2);
    }

    ngx_http_zkcredit_next_waiting();

    /*
     * One at a time: a request still blocked cannot be freed by another's
     * finalization (two HTTP/2 streams of one connection).
     */
    for (i = 0; i < n; i++) {
        ngx_http_zkcredit_job_done(ctxs[i]);

        /* the phases again, or nginx's finalizer for a terminated request */
        ngx_http_zkcredit_resume(ctxs[i]->request);
    }
}


/*
 * Whether the client has gone: checked before the spend, so that a ticket
 * is never spent for a request nobody waits for.
 */
static ngx_uint_t
ngx_http_zkcredit_client_gone(ngx_http_request_t *r)
{
    int                n;
    char               buf[1];
    ngx_err_t          err;
    ngx_connection_t  *c;

    c = r->connection;

    if (c->error || c->read->eof || c->read->pending_eof) {
        return 1;
    }

#if (NGX_HTTP_V2)
    if (r->stream) {
        return 0;
    }
#endif

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == 0) {
        return 1;
    }

    if (n == -1) {
        err = ngx_socket_errno;
        return (err != NGX_EAGAIN && err != NGX_EINTR) ? 1 : 0;
    }

    return 0;
}


static void
ngx_http_zkcredit_spend(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx)
{
    u_char                    attempt[NGX_HTTP_ZKCREDIT_ATTEMPT_BYTES];
    libverify::Credential    *cred;
    ngx_http_zkcredit_cmd_t   cmd;

    cred = &ctx->job->credential;

    ngx_http_zkcredit_field_hex(cred->nullifier, ctx->nullifier_hex);

    /* names this request's claim, so that only it refunds an unserved spend */
    randombytes_buf(attempt, sizeof(attempt));
    ngx_hex_dump(ctx->attempt_hex, attempt, sizeof(attempt));

    ngx_http_zkcredit_cmd_init(&cmd, r, "EVAL");
    ngx_http_zkcredit_cmd_arg(&cmd, ngx_http_zkcredit_spend_script.data,
                              ngx_http_zkcredit_spend_script.len);
    ngx_http_zkcredit_cmd_literal(&cmd, "2");
    ngx_http_zkcredit_cmd_key(&cmd, "n:", ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_key(&cmd, "roots", NULL, 0);
    ngx_http_zkcredit_cmd_field(&cmd, cred->root);
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->x);
    ngx_http_zkcredit_cmd_field(&cmd, cred->signal);
    ngx_http_zkcredit_cmd_time(&cmd, ctx->deployment->root_window);
    ngx_http_zkcredit_cmd_arg(&cmd, ctx->attempt_hex,
                              NGX_HTTP_ZKCREDIT_ATTEMPT_HEX_LEN);
    ngx_http_zkcredit_cmd_arg(&cmd, ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);

    ctx->spend_sent = ngx_current_msec;
    ctx->op = ngx_http_zkcredit_redis_send(ngx_http_zkcredit_spend_reply, ctx,
                                           &cmd);

    if (ctx->op == NULL) {
        /* never queued: the store will not see it */
        ctx->outcome = NGX_HTTP_ZKCREDIT_STORE_ERROR;
        ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;
        return;
    }

    ctx->state = NGX_HTTP_ZKCREDIT_STATE_SPEND;
}


static ngx_int_t
ngx_http_zkcredit_reply_field(redisReply *reply, libverify::Fr *out)
{
    u_char  bytes[32];

    if (reply->type != REDIS_REPLY_STRING
        || ngx_http_zkcredit_unhex(reinterpret_cast<u_char *>(reply->str),
                                   reply->len, bytes, sizeof(bytes))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return libverify::Fr::from_bytes_be(bytes, *out) ? NGX_OK : NGX_ERROR;
}


/* called from the Redis client: records the outcome, resumes from an event */
static void
ngx_http_zkcredit_spend_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    ctx->op = NULL;
    ctx->state = NGX_HTTP_ZKCREDIT_STATE_DONE;

    if (reply == NULL) {
        /* the script may have run: its refund is queued behind it */
        ctx->outcome = NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN;
        ngx_http_zkcredit_refund_unserved(ctx->request, ctx);
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: redis did not answer a spend in time");

    } else if (reply->type == REDIS_REPLY_ERROR) {
        /* a script that fails runs none of its writes */
        ctx->outcome = NGX_HTTP_ZKCREDIT_STORE_ERROR;
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: redis answered a spend with an error: %*s",
                      static_cast<size_t>(reply->len), reply->str);

    } else if (ngx_http_zkcredit_reply_tagged(reply, ctx->nullifier_hex,
                                              NGX_HTTP_ZKCREDIT_HEX_LEN)
                   != NGX_OK
               || reply->element[0]->type != REDIS_REPLY_INTEGER)
    {
        ctx->outcome = NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN;
        ngx_http_zkcredit_refund_unserved(ctx->request, ctx);
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: redis answered a spend with an unexpected "
                      "reply");

    } else {
        switch (reply->element[0]->integer) {

        case 0:
            ctx->outcome = NGX_HTTP_ZKCREDIT_UNKNOWN_ROOT;
            break;

        case 1:
            ctx->outcome = NGX_HTTP_ZKCREDIT_ACCEPTED;
            ctx->spent = 1;
            break;

        case 2:
            ngx_http_zkcredit_seen(ctx, reply);
            break;

        default:
            ctx->outcome = NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN;
            break;
        }
    }

    if (ctx->op == NULL) {
        ngx_post_event(&ctx->wake, &ngx_posted_events);
    }
}


/*
 * The nullifier was stored before. With another binding it is a double
 * spend. With this binding it is this very request sent again: its voucher
 * goes with the 409 when it exists, and when none appeared within the
 * settle timeout (the request that spent it is gone for good), the whole
 * C_max is refunded now.
 */
static void
ngx_http_zkcredit_seen(ngx_http_zkcredit_ctx_t *ctx, redisReply *reply)
{
    u_char                    *p;
    uint64_t                   age;
    ngx_str_t                  text;
    libverify::Fr              x1, y1;
    redisReply               **el;
    ngx_http_request_t        *r;
    ngx_http_zkcredit_cmd_t    cmd;

    r = ctx->request;
    el = reply->element;
    ctx->outcome = NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN;

    if (reply->elements != 6
        || ngx_http_zkcredit_reply_field(el[1], &x1) != NGX_OK
        || ngx_http_zkcredit_reply_field(el[2], &y1) != NGX_OK
        || el[3]->type != REDIS_REPLY_STRING || el[4]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (!(x1 == ctx->job->x)) {
        ctx->outcome = NGX_HTTP_ZKCREDIT_DOUBLE_SPEND;
        ngx_http_zkcredit_record_double_spend(ctx, x1, y1);
        return;
    }

    ctx->outcome = NGX_HTTP_ZKCREDIT_REPLAY;

    if (el[3]->len == libverify::kRefundChars) {
        p = static_cast<u_char *>(ngx_pnalloc(r->pool, el[3]->len));
        if (p != NULL) {
            ngx_memcpy(p, el[3]->str, el[3]->len);
            ctx->voucher.data = p;
            ctx->voucher.len = el[3]->len;
        }
        return;
    }

    text.data = reinterpret_cast<u_char *>(el[4]->str);
    text.len = el[4]->len;

    if (ngx_http_zkcredit_parse_amount(&text, &age) != NGX_OK
        || age < static_cast<uint64_t>(ctx->deployment->settle_timeout))
    {
        return;
    }

    /* nothing was served within the settle timeout: refund all of C_max */
    if (ngx_http_zkcredit_sign_voucher(r, ctx, 0, &ctx->voucher) != NGX_OK) {
        return;
    }

    ngx_http_zkcredit_cmd_init(&cmd, r, "EVAL");
    ngx_http_zkcredit_cmd_refund_script(&cmd, ctx, &ctx->voucher);
    ctx->voucher.len = 0;

    ctx->op = ngx_http_zkcredit_redis_send(ngx_http_zkcredit_reissue_reply,
                                           ctx, &cmd);
}


/* the stored voucher, whoever stored it: it goes with the 409 */
static void
ngx_http_zkcredit_reissue_reply(void *data, redisReply *reply)
{
    u_char                   *p;
    redisReply               *v;
    ngx_http_zkcredit_ctx_t  *ctx;

    ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);
    ctx->op = NULL;

    if (reply != NULL && reply->type != REDIS_REPLY_ERROR
        && ngx_http_zkcredit_reply_tagged(reply, ctx->nullifier_hex,
                                          NGX_HTTP_ZKCREDIT_HEX_LEN) == NGX_OK
        && reply->elements == 3)
    {
        v = reply->element[1];

        if (v->type == REDIS_REPLY_STRING && v->len == libverify::kRefundChars) {
            p = static_cast<u_char *>(ngx_pnalloc(ctx->request->pool, v->len));
            if (p != NULL) {
                ngx_memcpy(p, v->str, v->len);
                ctx->voucher.data = p;
                ctx->voucher.len = v->len;
            }
        }
    }

    ngx_post_event(&ctx->wake, &ngx_posted_events);
}


/*
 * Two shares of one ticket reveal the key: k = (y1 x2 - y2 x1) / (x2 - x1).
 * The evidence goes to a stream the registry consumes to revoke H(k). The
 * cheater's refusal is sent once Redis has answered the append, so whoever
 * sees the 409 can already find the evidence.
 */
static void
ngx_http_zkcredit_record_double_spend(ngx_http_zkcredit_ctx_t *ctx,
    const libverify::Fr &x1, const libverify::Fr &y1)
{
    libverify::Fr             k;
    ngx_http_request_t       *r;
    ngx_http_zkcredit_cmd_t   cmd;

    r = ctx->request;

    if (libverify::recover_rln_key(x1, y1, ctx->job->x,
                                   ctx->job->credential.signal, k)
        != libverify::Status::ok)
    {
        return;
    }

    ngx_http_zkcredit_cmd_init(&cmd, r, "XADD");
    ngx_http_zkcredit_cmd_key(&cmd, "evidence:double-spend", NULL, 0);
    ngx_http_zkcredit_cmd_literal(&cmd, "*");
    ngx_http_zkcredit_cmd_literal(&cmd, "k");
    ngx_http_zkcredit_cmd_field(&cmd, k);
    ngx_http_zkcredit_cmd_literal(&cmd, "id");
    ngx_http_zkcredit_cmd_field(&cmd, libverify::poseidon(&k, 1));
    ngx_http_zkcredit_cmd_literal(&cmd, "nullifier");
    ngx_http_zkcredit_cmd_arg(&cmd, ctx->nullifier_hex,
                              NGX_HTTP_ZKCREDIT_HEX_LEN);
    ngx_http_zkcredit_cmd_literal(&cmd, "x1");
    ngx_http_zkcredit_cmd_field(&cmd, x1);
    ngx_http_zkcredit_cmd_literal(&cmd, "y1");
    ngx_http_zkcredit_cmd_field(&cmd, y1);
    ngx_http_zkcredit_cmd_literal(&cmd, "x2");
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->x);
    ngx_http_zkcredit_cmd_literal(&cmd, "y2");
    ngx_http_zkcredit_cmd_field(&cmd, ctx->job->credential.signal);
    /* the time to the minute only: evidence need not time a request */
    ngx_http_zkcredit_cmd_literal(&cmd, "minute");
    ngx_http_zkcredit_cmd_time(&cmd, ngx_time() / 60 * 60);

    sodium_memzero(&k, sizeof(k));

    ctx->op = ngx_http_zkcredit_redis_send(ngx_http_zkcredit_evidence_reply,
                                           ctx, &cmd);
    if (ctx->op == NULL) {
        /* the store is away now: the evidence waits for it */
        ngx_http_zkcredit_redis_write(&cmd, "double-spend evidence");
    }
}


/* the ticket is spent whatever happens here: a lost record is only logged */
static void
ngx_http_zkcredit_evidence_reply(void *data, redisReply *reply)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "zkcredit: double-spend evidence could not be stored");
    }

    ctx->op = NULL;
    ngx_post_event(&ctx->wake, &ngx_posted_events);
}


static void
ngx_http_zkcredit_wake(ngx_event_t *ev)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(ev->data);

    ngx_http_zkcredit_resume(ctx->request);
}


/*
 * The request ends (terminated or freed). What it still waits for is
 * dropped, and a ticket it spent without a voucher for the response gets
 * its whole C_max back.
 */
static void
ngx_http_zkcredit_cleanup(void *data)
{
    ngx_http_zkcredit_ctx_t *ctx = static_cast<ngx_http_zkcredit_ctx_t *>(data);

    ctx->gone = 1;

    if (ctx->state == NGX_HTTP_ZKCREDIT_STATE_QUEUED) {
        ngx_queue_remove(&ctx->waiting);
        ngx_http_zkcredit_nwaiting--;
    }

    if (ctx->state == NGX_HTTP_ZKCREDIT_STATE_SPEND && ctx->op != NULL) {
        /* the spend is on its way; the refund follows it on the same
         * connection and applies only if the spend was this request's */
        ngx_http_zkcredit_cancel(&ctx->op, &ctx->wake);
        ngx_http_zkcredit_refund_unserved(ctx->request, ctx);
        return;
    }

    ngx_http_zkcredit_cancel(&ctx->op, &ctx->wake);

    if (!ctx->spent || ctx->refunded) {
        return;
    }

    if (ctx->body == NGX_HTTP_ZKCREDIT_BODY_STREAM) {
        /* a stream that started: what it used, or C_max */
        ngx_http_zkcredit_meter_abandoned(ctx->request, ctx);

    } else {
        ngx_http_zkcredit_refund_unserved(ctx->request, ctx);
    }
}


static ngx_int_t
ngx_http_zkcredit_decide(ngx_http_request_t *r, ngx_http_zkcredit_ctx_t *ctx)
{
    ngx_uint_t                      level;
    ngx_http_zkcredit_problem_e     problem;
    ngx_http_zkcredit_counters_t   *counters;

    if (!ctx->counted) {
        ctx->counted = 1;
        ngx_http_zkcredit_count(r, ctx->outcome);

        if (ctx->outcome != NGX_HTTP_ZKCREDIT_ACCEPTED
            && ctx->outcome != NGX_HTTP_ZKCREDIT_MISSING)
        {
            /* the store's and the server's own troubles are errors; those
             * go to the worker's log, without the client's address */
            level = (ctx->outcome >= NGX_HTTP_ZKCREDIT_OVERLOADED)
                    ? static_cast<ngx_uint_t>(NGX_LOG_ERR)
                    : ctx->conf->log_level;

            ngx_log_error(level,
                          level == NGX_LOG_ERR ? ngx_cycle->log
                                               : r->connection->log,
                          0, "zkcredit: credential refused: %s%s%s",
                          ngx_http_zkcredit_outcome_reasons[ctx->outcome],
                          ctx->job && ctx->job->status != libverify::Status::ok
                          ? ", " : "",
                          ctx->job && ctx->job->status != libverify::Status::ok
                          ? libverify::status_name(ctx->job->status) : "");
        }
    }

    /* as nginx leaves it once a body is read */
    r->read_event_handler = ngx_http_block_reading;

    if (ctx->outcome == NGX_HTTP_ZKCREDIT_ACCEPTED) {
        /* try_files and mirror, then the content handler */
        return NGX_DECLINED;
    }

    if (ctx->outcome == NGX_HTTP_ZKCREDIT_CLIENT_GONE) {
        return NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    if (ctx->conf->mode == NGX_HTTP_ZKCREDIT_SHADOW) {
        counters = ngx_http_zkcredit_counters(r);
        if (counters != NULL && !ctx->shadow_pass) {
            (void) ngx_atomic_fetch_add(&counters->shadow_passed, 1);
        }
        ctx->shadow_pass = 1;
        return NGX_DECLINED;
    }

    switch (ctx->outcome) {

    case NGX_HTTP_ZKCREDIT_MISSING:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_REQUIRED;
        break;

    case NGX_HTTP_ZKCREDIT_UNKNOWN_ROOT:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_ROOT;
        break;

    case NGX_HTTP_ZKCREDIT_RPC_MALFORMED:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_RPC;
        break;

    case NGX_HTTP_ZKCREDIT_REPLAY:
    case NGX_HTTP_ZKCREDIT_DOUBLE_SPEND:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_SPENT;
        break;

    case NGX_HTTP_ZKCREDIT_OVERLOADED:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_OVERLOADED;
        break;

    case NGX_HTTP_ZKCREDIT_STORE_ERROR:
    case NGX_HTTP_ZKCREDIT_INTERNAL_ERROR:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_UNAVAILABLE;
        break;

    case NGX_HTTP_ZKCREDIT_OUTCOME_UNKNOWN:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_UNKNOWN;
        break;

    default:
        problem = NGX_HTTP_ZKCREDIT_PROBLEM_INVALID;
        break;
    }

    ngx_http_finalize_request(r,
        ngx_http_zkcredit_send_problem(r, ctx->conf, problem,
                                       ctx->voucher.len ? &ctx->voucher : NULL));
    return NGX_DONE;
}


/*
 * An RFC 9457 problem. Every interpolated value is a JSON-safe token,
 * checked at load; numbers are strings, so that no client loses digits.
 */
ngx_int_t
ngx_http_zkcredit_send_problem(ngx_http_request_t *r,
    ngx_http_zkcredit_loc_conf_t *lcf, ngx_http_zkcredit_problem_e problem,
    ngx_str_t *voucher)
{
    size_t                          len;
    u_char                         *body, *last;
    ngx_int_t                       rc;
    ngx_str_t                       value;
    ngx_http_zkcredit_problem_t    *p;
    ngx_http_zkcredit_deployment_t *dep;
    ngx_http_zkcredit_main_conf_t  *zmcf;

    static ngx_str_t  www_authenticate = ngx_string("WWW-Authenticate");
    static ngx_str_t  cache_control = ngx_string("Cache-Control");
    static ngx_str_t  no_store = ngx_string("no-store");
    static ngx_str_t  retry_after_name = ngx_string("Retry-After");
    static ngx_str_t  retry_after = ngx_string("1");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    zmcf = static_cast<ngx_http_zkcredit_main_conf_t *>(
               ngx_http_get_module_main_conf(r, ngx_http_zkcredit_module));

    p = &ngx_http_zkcredit_problems[problem];
    dep = lcf->deployment;

    if (p->status == NGX_HTTP_ZKCREDIT_PAYMENT_REQUIRED && dep != NULL) {
        len = sizeof("ZKCredit realm=\"\", scope=\"\", c_max=\"\", key=\"\", "
                     "discovery=\"\"")
              + lcf->realm.len + dep->scope_text.len + NGX_UINT64_LEN
              + NGX_HTTP_ZKCREDIT_HEX_LEN + zmcf->discovery_url.len;
        value.data = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        last = ngx_sprintf(value.data,
                           "ZKCredit realm=\"%V\", scope=\"%V\", "
                           "c_max=\"%uL\", key=\"%*s\"",
                           &lcf->realm, &dep->scope_text, dep->c_max,
                           static_cast<size_t>(NGX_HTTP_ZKCREDIT_HEX_LEN),
                           dep->signer->packed);
        if (zmcf->discovery_url.len) {
            last = ngx_sprintf(last, ", discovery=\"%V\"", &zmcf->discovery_url);
        }
        value.len = last - value.data;

        r->headers_out.www_authenticate =
            ngx_http_zkcredit_push_header(r, &www_authenticate, &value);
        if (r->headers_out.www_authenticate == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (p->status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_zkcredit_push_header(r, &retry_after_name, &retry_after)
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (voucher != NULL && dep != NULL
        && ngx_http_zkcredit_push_header(r, &dep->refund_header, voucher)
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_zkcredit_push_header(r, &cache_control, &no_store) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"type\":\"\",\"title\":\"\",\"status\":,\"detail\":\"\","
                 "\"spent\":\"\",\"header\":\"\",\"scope\":\"\","
                 "\"c_max\":\"\",\"discovery\":\"\"}\n")
          + p->type.len + p->title.len + NGX_INT_T_LEN + p->detail.len
          + p->spent.len + NGX_UINT64_LEN + zmcf->discovery_url.len
          + (dep ? dep->header_name.len + dep->scope_text.len : 0);
    body = static_cast<u_char *>(ngx_pnalloc(r->pool, len));
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(body,
                       "{\"type\":\"%V\",\"title\":\"%V\",\"status\":%ui,"
                       "\"detail\":\"%V\",\"spent\":\"%V\"",
                       &p->type, &p->title, p->status, &p->detail, &p->spent);
    if (dep != NULL) {
        last = ngx_sprintf(last, ",\"header\":\"%V\",\"scope\":\"%V\","
                           "\"c_max\":\"%uL\"",
                           &dep->header_name, &dep->scope_text, dep->c_max);
    }
    if (zmcf->discovery_url.len) {
        last = ngx_sprintf(last, ",\"discovery\":\"%V\"", &zmcf->discovery_url);
    }
    last = ngx_sprintf(last, "}\n");

    return ngx_http_zkcredit_send_body(r, p->status, "application/problem+json",
                                       body, last);
}
